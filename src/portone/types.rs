//! PortOne v1's requests and answers as the reference describes them (`AuthAnnotation`,
//! `PaymentPrepareAnnotation`, `PaymentAnnotation`, `PaymentCancelAnnotation`). Money is
//! [`Won`]; PortOne writes amounts as JSON numbers (`1000` or `1000.0`). Times are unix
//! seconds, 0 (or `null`) for "not yet".

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::Won;

/// `POST /users/getToken`'s answer.
#[derive(Clone, Deserialize)]
pub struct Token {
    pub access_token: String,
    /// Unix time the token stops working.
    pub expired_at: i64,
    /// PortOne's clock when it answered (to measure the token's life without trusting ours).
    pub now: i64,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &"<redacted>")
            .field("expired_at", &self.expired_at)
            .field("now", &self.now)
            .finish()
    }
}

/// `POST /payments/prepare`'s answer: the amount registered for a `merchant_uid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prepared {
    pub merchant_uid: String,
    #[serde(serialize_with = "won_out", deserialize_with = "won_in")]
    pub amount: Won,
}

/// A payment's state at PortOne.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    /// Not paid (yet): a checkout in progress or a virtual account waiting for its deposit.
    Ready,
    Paid,
    /// Fully cancelled (a partly cancelled payment stays `paid` with `cancel_amount` > 0).
    Cancelled,
    Failed,
    /// A status the reference does not list (e.g. a PG's `pending`): never final, never paid.
    #[serde(other)]
    Other,
}

/// One cancellation of a payment (`PaymentCancelAnnotation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelHistory {
    #[serde(default, deserialize_with = "text_in")]
    pub pg_tid: String,
    #[serde(serialize_with = "won_out", deserialize_with = "won_in")]
    pub amount: Won,
    #[serde(default, deserialize_with = "time_in")]
    pub cancelled_at: i64,
    #[serde(default, deserialize_with = "text_in")]
    pub reason: String,
    #[serde(default, deserialize_with = "text_in")]
    pub cancellation_id: String,
}

/// A payment (`PaymentAnnotation`): the fields NeighborBid reads; the rest are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub imp_uid: String,
    pub merchant_uid: String,
    #[serde(default)]
    pub pay_method: Option<String>,
    #[serde(default)]
    pub pg_provider: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(serialize_with = "won_out", deserialize_with = "won_in")]
    pub amount: Won,
    #[serde(serialize_with = "won_out", deserialize_with = "won_in")]
    pub cancel_amount: Won,
    #[serde(default)]
    pub currency: Option<String>,
    pub status: PaymentStatus,
    #[serde(default, deserialize_with = "time_in")]
    pub started_at: i64,
    #[serde(default, deserialize_with = "time_in")]
    pub paid_at: i64,
    #[serde(default, deserialize_with = "time_in")]
    pub failed_at: i64,
    #[serde(default, deserialize_with = "time_in")]
    pub cancelled_at: i64,
    #[serde(default)]
    pub fail_reason: Option<String>,
    #[serde(default)]
    pub cancel_reason: Option<String>,
    #[serde(default)]
    pub vbank_code: Option<String>,
    #[serde(default)]
    pub vbank_name: Option<String>,
    #[serde(default)]
    pub vbank_num: Option<String>,
    #[serde(default)]
    pub vbank_holder: Option<String>,
    /// The virtual account's deadline (unix), 0 when there is none.
    #[serde(default, deserialize_with = "time_in")]
    pub vbank_date: i64,
    #[serde(default, deserialize_with = "time_in")]
    pub vbank_issued_at: i64,
    #[serde(default)]
    pub receipt_url: Option<String>,
    #[serde(default, deserialize_with = "list_in")]
    pub cancel_history: Vec<CancelHistory>,
}

impl Payment {
    /// What can still be cancelled: `amount − cancel_amount` (the `checksum` of a cancel).
    pub fn cancellable(&self) -> Won {
        Won::new(self.amount.get().saturating_sub(self.cancel_amount.get())).unwrap_or(Won::ZERO)
    }
}

/// The account a virtual-account payment is refunded to (`refund_holder`, `refund_bank`,
/// `refund_account`, `refund_tel`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundAccount {
    #[serde(rename = "refund_holder")]
    pub holder: String,
    /// The bank's code (PortOne's bank code table, e.g. `004`).
    #[serde(rename = "refund_bank")]
    pub bank: String,
    #[serde(rename = "refund_account")]
    pub account: String,
    #[serde(
        rename = "refund_tel",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub tel: Option<String>,
}

/// `POST /payments/cancel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CancelRequest {
    pub imp_uid: String,
    /// The amount to refund; `None` refunds everything still cancellable.
    #[serde(
        serialize_with = "opt_won_out",
        skip_serializing_if = "Option::is_none"
    )]
    pub amount: Option<Won>,
    /// What we believe is still cancellable; PortOne refuses the cancel when its own figure
    /// differs.
    #[serde(
        serialize_with = "opt_won_out",
        skip_serializing_if = "Option::is_none"
    )]
    pub checksum: Option<Won>,
    pub reason: String,
    /// Required by PortOne to refund a virtual-account payment.
    #[serde(flatten)]
    pub refund: Option<RefundAccount>,
}

/// `POST /vbanks`: a virtual account for `merchant_uid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VbankRequest {
    pub merchant_uid: String,
    #[serde(serialize_with = "won_out")]
    pub amount: Won,
    /// The bank's code (e.g. `004` KB국민, `088` 신한).
    pub vbank_code: String,
    /// The deadline for the deposit, unix seconds.
    pub vbank_due: i64,
    pub vbank_holder: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buyer_name: Option<String>,
    /// Where PortOne posts the deposit notice (webhook).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice_url: Option<String>,
    /// The PortOne channel to issue it through (required by newer PortOne accounts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_key: Option<String>,
}

fn won_out<S: Serializer>(won: &Won, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(won.get())
}

fn opt_won_out<S: Serializer>(won: &Option<Won>, s: S) -> Result<S::Ok, S::Error> {
    match won {
        Some(w) => s.serialize_i64(w.get()),
        None => s.serialize_none(),
    }
}

/// A number (`1000`, `1000.0`) or a numeric string (form bodies) as whole, non-negative won.
fn won_in<'de, D: Deserializer<'de>>(d: D) -> Result<Won, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = Won;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole, non-negative amount of won")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Won, E> {
            Won::new(v).ok_or_else(|| E::custom("a negative amount"))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Won, E> {
            i64::try_from(v)
                .ok()
                .and_then(Won::new)
                .ok_or_else(|| E::custom("an amount out of range"))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Won, E> {
            if v.fract() == 0.0 && (0.0..9.0e15).contains(&v) {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "a whole number below 9e15 is exact in both f64 and i64"
                )]
                let whole = v as i64;
                self.visit_i64(whole)
            } else {
                Err(E::custom("not a whole amount of won"))
            }
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Won, E> {
            let v = v.trim();
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(E::custom("not a whole amount of won"));
            }
            v.parse::<i64>()
                .ok()
                .and_then(Won::new)
                .ok_or_else(|| E::custom("an amount out of range"))
        }
    }
    d.deserialize_any(V)
}

/// A unix time; `null` reads as 0 ("not yet").
fn time_in<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(Option::<i64>::deserialize(d)?.unwrap_or(0))
}

/// A string; `null` reads as empty.
fn text_in<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// A list; `null` reads as empty.
fn list_in<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Read a [`Won`] as PortOne writes it (for the simulator's request bodies).
pub fn deserialize_won<'de, D: Deserializer<'de>>(d: D) -> Result<Won, D::Error> {
    won_in(d)
}

/// Read an optional [`Won`]: absent or `null` is `None`.
pub fn deserialize_opt_won<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Won>, D::Error> {
    struct Amount(Won);
    impl<'de> Deserialize<'de> for Amount {
        fn deserialize<D2: Deserializer<'de>>(d: D2) -> Result<Amount, D2::Error> {
            won_in(d).map(Amount)
        }
    }
    Ok(Option::<Amount>::deserialize(d)?.map(|a| a.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_documented_payment_answer_is_read_with_nulls_as_not_yet() {
        let json = r#"{"imp_uid":"imp_1","merchant_uid":"m_1","amount":15000.0,"cancel_amount":0,
            "currency":"KRW","status":"ready","paid_at":0,"failed_at":null,"vbank_num":"123",
            "vbank_date":1700000000,"cancel_history":null,"sandbox":true,"extra_field":{"a":1}}"#;
        let p: Payment = serde_json::from_str(json).unwrap();
        assert_eq!(p.amount, Won::new(15000).unwrap());
        assert_eq!(p.status, PaymentStatus::Ready);
        assert_eq!(
            (p.paid_at, p.failed_at, p.vbank_date),
            (0, 0, 1_700_000_000)
        );
        assert!(p.cancel_history.is_empty());
        let odd: Payment = serde_json::from_str(&json.replace("\"ready\"", "\"pending\"")).unwrap();
        assert_eq!(odd.status, PaymentStatus::Other);
    }

    #[test]
    fn fractional_or_negative_amounts_are_refused() {
        for bad in ["15000.5", "-1", "\"12a\""] {
            let json = format!(r#"{{"merchant_uid":"m","amount":{bad}}}"#);
            assert!(serde_json::from_str::<Prepared>(&json).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_vbank_refund_sends_the_account_fields_flat() {
        let r = CancelRequest {
            imp_uid: "imp_1".to_owned(),
            amount: Some(Won::new(500).unwrap()),
            checksum: Some(Won::new(1000).unwrap()),
            reason: "refund".to_owned(),
            refund: Some(RefundAccount {
                holder: "홍길동".to_owned(),
                bank: "004".to_owned(),
                account: "12345".to_owned(),
                tel: None,
            }),
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["amount"], 500);
        assert_eq!(v["checksum"], 1000);
        assert_eq!(v["refund_bank"], "004");
        assert!(v.get("refund_tel").is_none());
    }
}
