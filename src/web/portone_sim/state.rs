//! The simulator's books: tokens, prepared amounts and payments, in memory behind one mutex
//! (a restart forgets them, as a fresh PortOne test account would). Each operation answers
//! what PortOne v1 answers: an HTTP status and the envelope `{code, message, response}`.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use rand::Rng as _;
use serde::Serialize;
use subtle::ConstantTimeEq as _;

use crate::domain::Won;
use crate::portone::{CancelHistory, Payment, PaymentStatus, Prepared, RefundAccount};

/// How long a simulator token lives: 30 minutes, like PortOne's.
pub const TOKEN_LIFETIME_SECS: i64 = 30 * 60;

/// An answer: HTTP status, `code`, `message`, `response`.
pub struct Answer {
    pub status: u16,
    pub code: i64,
    pub message: Option<String>,
    pub response: Option<serde_json::Value>,
}

impl Answer {
    fn ok(response: impl Serialize) -> Answer {
        Answer {
            status: 200,
            code: 0,
            message: None,
            response: serde_json::to_value(response).ok(),
        }
    }

    /// PortOne saying no: HTTP `status` with code 1 and the reason.
    pub fn refused(status: u16, message: &str) -> Answer {
        Answer {
            status,
            code: 1,
            message: Some(message.to_owned()),
            response: None,
        }
    }

    pub fn unauthorized() -> Answer {
        Answer {
            status: 401,
            code: -1,
            message: Some("Unauthorized".to_owned()),
            response: None,
        }
    }

    fn not_found() -> Answer {
        Answer::refused(404, "존재하지 않는 결제정보입니다.")
    }
}

#[derive(Serialize)]
struct TokenAnswer {
    access_token: String,
    expired_at: i64,
    now: i64,
}

/// What the checkout page decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Decline,
    Close,
}

/// Why a checkout cannot be opened (PortOne blocks the PG window).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckoutError {
    #[error("The amount differs from the one registered for this order (prepared {prepared}).")]
    AmountMismatch { prepared: Won },
    #[error("This order has already been paid.")]
    AlreadyPaid,
}

impl CheckoutError {
    /// The reason in the reader's language.
    pub fn msg(&self) -> crate::domain::msg::Msg {
        use crate::domain::msg::Msg;
        match self {
            CheckoutError::AmountMismatch { prepared } => {
                Msg::new("err.sim.amount_mismatch").arg("prepared", prepared)
            }
            CheckoutError::AlreadyPaid => Msg::new("err.sim.already_paid"),
        }
    }
}

/// A fault injected into the next API calls (not `getToken`, not the controls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Do the work, then answer only after this long (the caller times out: result unknown,
    /// though PortOne acted).
    Delay(std::time::Duration),
    /// Do the work, then answer 500.
    ErrorAfter,
    /// Answer 500 without doing anything.
    ErrorBefore,
}

/// A webhook waiting to be sent: PortOne's `{imp_uid, merchant_uid, status}` to `url`.
#[derive(Debug, Clone)]
pub struct Notice {
    pub url: String,
    pub imp_uid: String,
    pub merchant_uid: String,
    pub status: PaymentStatus,
}

/// A webhook sent, and the HTTP status it was answered with (`None`: no answer).
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub url: String,
    pub imp_uid: String,
    pub merchant_uid: String,
    pub status: PaymentStatus,
    pub answered: Option<u16>,
}

/// The deliveries remembered (the newest).
const DELIVERIES_KEPT: usize = 200;

#[derive(Default)]
struct Books {
    /// The fault and how many more calls it hits.
    fault: Option<(Fault, u32)>,
    /// Where each payment's webhooks go (its `notice_url`).
    notice_urls: HashMap<String, String>,
    outbox: Vec<Notice>,
    deliveries: Vec<Delivery>,
    /// Fault injection: each webhook sent this many times (0 or 1: once).
    webhook_copies: u32,
    /// Fault injection: webhooks are delivered before the browser is redirected back.
    webhooks_before_redirect: bool,
    /// Fault injection: new tokens live this many seconds instead of 30 minutes.
    token_lifetime: Option<i64>,
    /// Token → its expiry (unix).
    tokens: HashMap<String, i64>,
    token_requests: u64,
    prepared: HashMap<String, Won>,
    payments: HashMap<String, Payment>,
}

/// The built-in PortOne.
pub struct Simulator {
    api_key: String,
    api_secret: String,
    /// This process's own address (`http://127.0.0.1:PORT`): where webhooks are delivered.
    local_origin: String,
    /// The addresses of this site a `notice_url` may name (the public URL, the local one).
    site_origins: Vec<String>,
    /// Sends the webhooks.
    agent: ureq::Agent,
    books: Mutex<Books>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator").finish_non_exhaustive()
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn random_digits(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

fn bank_name(code: &str) -> String {
    match code {
        "003" => "IBK기업은행".to_owned(),
        "004" => "KB국민은행".to_owned(),
        "011" => "NH농협은행".to_owned(),
        "020" => "우리은행".to_owned(),
        "081" => "하나은행".to_owned(),
        "088" => "신한은행".to_owned(),
        "090" => "카카오뱅크".to_owned(),
        other => format!("은행 {other}"),
    }
}

impl Simulator {
    /// A simulator whose webhooks go to this site only: `local_origin` is where it is reached
    /// from inside, `site_origins` the addresses a `notice_url` may start with.
    pub fn new(
        api_key: &str,
        api_secret: &str,
        local_origin: &str,
        site_origins: Vec<String>,
    ) -> Simulator {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(10)))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Simulator {
            api_key: api_key.to_owned(),
            api_secret: api_secret.to_owned(),
            local_origin: local_origin.trim_end_matches('/').to_owned(),
            site_origins,
            agent,
            books: Mutex::new(Books::default()),
        }
    }

    /// Where a `notice_url` is delivered: a path on this site, or an address of this site
    /// (public or local), both delivered to this process. Any other host is refused: the
    /// simulator posts to nobody else.
    pub fn resolve_notice_url(&self, raw: &str) -> Option<String> {
        let raw = raw.trim();
        let path = if raw.starts_with('/') {
            raw
        } else {
            self.site_origins
                .iter()
                .chain(std::iter::once(&self.local_origin))
                .find_map(|origin| raw.strip_prefix(origin.trim_end_matches('/')))?
        };
        let local = path.starts_with('/')
            && !path.starts_with("//")
            && path.len() <= 512
            && !path.contains('\\')
            && !path.chars().any(char::is_control);
        local.then(|| format!("{}{path}", self.local_origin))
    }

    /// Fault injection: send every webhook `copies` times (1–5), and deliver them before the
    /// browser is redirected back (`before_redirect`) rather than alongside.
    pub fn set_webhook_faults(&self, copies: u32, before_redirect: bool) {
        let mut books = self.books();
        books.webhook_copies = copies.clamp(1, 5);
        books.webhooks_before_redirect = before_redirect;
    }

    /// The webhooks waiting, and whether they go before the answer.
    pub fn take_outbox(&self) -> (Vec<Notice>, bool) {
        let mut books = self.books();
        (
            std::mem::take(&mut books.outbox),
            books.webhooks_before_redirect,
        )
    }

    /// Send one webhook (JSON, as PortOne does) and remember the answer.
    pub fn deliver(&self, notice: Notice) {
        let body = serde_json::json!({
            "imp_uid": notice.imp_uid,
            "merchant_uid": notice.merchant_uid,
            "status": notice.status,
        });
        let answered = self
            .agent
            .post(&notice.url)
            .content_type("application/json")
            .send(body.to_string().as_bytes())
            .ok()
            .map(|r| r.status().as_u16());
        if answered.is_none() {
            tracing::info!(url = %notice.url, "simulator: webhook not answered");
        }
        let mut books = self.books();
        books.deliveries.push(Delivery {
            url: notice.url,
            imp_uid: notice.imp_uid,
            merchant_uid: notice.merchant_uid,
            status: notice.status,
            answered,
        });
        let excess = books.deliveries.len().saturating_sub(DELIVERIES_KEPT);
        books.deliveries.drain(..excess);
    }

    /// The webhooks sent so far (the newest [`DELIVERIES_KEPT`]).
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.books().deliveries.clone()
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The key and secret, compared in constant time.
    pub fn credentials_match(&self, key: &str, secret: &str) -> bool {
        let key_ok = self.api_key.as_bytes().ct_eq(key.as_bytes());
        let secret_ok = self.api_secret.as_bytes().ct_eq(secret.as_bytes());
        bool::from(key_ok & secret_ok)
    }

    /// `POST /users/getToken`: the current token while more than a minute of it remains
    /// (PortOne reuses it), otherwise a new one for 30 minutes.
    pub fn get_token(&self, key: &str, secret: &str) -> Answer {
        if !self.credentials_match(key, secret) {
            return Answer {
                status: 401,
                code: -1,
                message: Some("imp_key, imp_secret 인증에 실패하였습니다.".to_owned()),
                response: None,
            };
        }
        let now = now();
        let mut books = self.books();
        books.token_requests += 1;
        books.tokens.retain(|_, expiry| *expiry > now);
        let reusable = books
            .tokens
            .iter()
            .filter(|(_, expiry)| **expiry - now > 60)
            .max_by_key(|(_, expiry)| **expiry)
            .map(|(t, e)| (t.clone(), *e));
        let lifetime = books.token_lifetime.unwrap_or(TOKEN_LIFETIME_SECS);
        let (access_token, expired_at) = reusable.unwrap_or_else(|| {
            let token = format!("{:x}", rand::rng().random::<u128>());
            (token, now + lifetime)
        });
        books.tokens.insert(access_token.clone(), expired_at);
        Answer::ok(TokenAnswer {
            access_token,
            expired_at,
            now,
        })
    }

    /// Is `Authorization` a live token? PortOne v1 takes the raw token (and `Bearer TOKEN`).
    pub fn authorised(&self, header: Option<&str>) -> bool {
        let Some(raw) = header.map(str::trim) else {
            return false;
        };
        let token = raw.strip_prefix("Bearer ").unwrap_or(raw).trim();
        self.books()
            .tokens
            .get(token)
            .is_some_and(|expiry| *expiry > now())
    }

    /// Fault injection: every token issued so far stops working at once (as if it expired).
    pub fn expire_tokens(&self) {
        self.books().tokens.clear();
    }

    /// Fault injection: the next `count` API calls suffer `fault` (`None` clears it).
    pub fn inject(&self, fault: Option<Fault>, count: u32) {
        self.books().fault = fault.filter(|_| count > 0).map(|f| (f, count));
    }

    /// The fault for this call, if one is pending.
    pub fn take_fault(&self) -> Option<Fault> {
        let mut books = self.books();
        let (fault, left) = books.fault?;
        books.fault = (left > 1).then_some((fault, left - 1));
        Some(fault)
    }

    /// Fault injection: the PG charged another amount than the one prepared (a forged
    /// checkout); the payment now says `amount`.
    pub fn tamper_amount(&self, imp_uid: &str, amount: Won) -> Answer {
        let mut books = self.books();
        let Some(payment) = books.payments.get_mut(imp_uid) else {
            return Answer::not_found();
        };
        payment.amount = amount;
        Answer::ok(payment.clone())
    }

    /// Fault injection: the whole payment is cancelled in PortOne's console, behind the
    /// site's back (no checksum, no call from the site).
    pub fn cancel_behind_our_back(&self, imp_uid: &str) -> Answer {
        let answer = self.cancel(&CancelOrder {
            imp_uid: Some(imp_uid.to_owned()),
            merchant_uid: None,
            amount: None,
            checksum: None,
            reason: Some("cancelled in the PortOne console".to_owned()),
            refund: Some(RefundAccount {
                holder: "console".to_owned(),
                bank: "000".to_owned(),
                account: "console".to_owned(),
                tel: None,
            }),
        });
        if answer.code == 0 {
            let mut books = self.books();
            if let Some(payment) = books.payments.get(imp_uid).cloned() {
                queue_notice(&mut books, &payment);
            }
        }
        answer
    }

    /// Fault injection: tokens issued from now on live `secs` seconds (`None`: 30 minutes).
    pub fn set_token_lifetime(&self, secs: Option<i64>) {
        self.books().token_lifetime = secs;
    }

    /// How many times `POST /users/getToken` was answered with a token.
    pub fn token_requests(&self) -> u64 {
        self.books().token_requests
    }

    /// `POST /payments/prepare`.
    pub fn prepare(&self, merchant_uid: &str, amount: Won) -> Answer {
        if let Some(refusal) = check_merchant_uid(merchant_uid) {
            return refusal;
        }
        if amount == Won::ZERO {
            return Answer::refused(400, "결제예정금액은 0보다 커야 합니다.");
        }
        let mut books = self.books();
        if books.prepared.contains_key(merchant_uid) {
            return Answer::refused(200, "이미 등록된 merchant_uid입니다.");
        }
        books.prepared.insert(merchant_uid.to_owned(), amount);
        Answer::ok(Prepared {
            merchant_uid: merchant_uid.to_owned(),
            amount,
        })
    }

    /// `GET /payments/prepare/{merchant_uid}`.
    pub fn prepared(&self, merchant_uid: &str) -> Answer {
        match self.books().prepared.get(merchant_uid) {
            Some(amount) => Answer::ok(Prepared {
                merchant_uid: merchant_uid.to_owned(),
                amount: *amount,
            }),
            None => Answer::refused(404, "사전등록된 결제정보가 존재하지 않습니다."),
        }
    }

    /// `GET /payments/{imp_uid}`.
    pub fn payment(&self, imp_uid: &str) -> Answer {
        match self.books().payments.get(imp_uid) {
            Some(p) => Answer::ok(p),
            None => Answer::not_found(),
        }
    }

    /// The newest payment (by start) for `merchant_uid`, in `status` when given (PortOne's
    /// `ready`, `paid`, `failed`, `cancelled`; any other status finds nothing).
    pub fn find_by_order(&self, merchant_uid: &str, status: Option<&str>) -> Answer {
        let books = self.books();
        let found = books
            .payments
            .values()
            .filter(|p| p.merchant_uid == merchant_uid)
            .filter(|p| {
                status.is_none_or(|wanted| {
                    serde_json::to_value(p.status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        == Some(wanted.to_owned())
                })
            })
            .max_by_key(|p| (p.started_at, p.imp_uid.clone()));
        match found {
            Some(p) => Answer::ok(p),
            None => Answer::not_found(),
        }
    }

    /// A payment as the simulator has it.
    pub fn find(&self, imp_uid: &str) -> Option<Payment> {
        self.books().payments.get(imp_uid).cloned()
    }

    /// Whether a checkout for `merchant_uid` and `amount` may open.
    pub fn checkout_allowed(&self, merchant_uid: &str, amount: Won) -> Result<(), CheckoutError> {
        let books = self.books();
        if let Some(prepared) = books.prepared.get(merchant_uid) {
            if *prepared != amount {
                return Err(CheckoutError::AmountMismatch {
                    prepared: *prepared,
                });
            }
        }
        if books
            .payments
            .values()
            .any(|p| p.merchant_uid == merchant_uid && p.status == PaymentStatus::Paid)
        {
            return Err(CheckoutError::AlreadyPaid);
        }
        Ok(())
    }

    /// The checkout window's outcome: a new payment (`imp_uid`), `paid` or `failed`.
    pub fn checkout(
        &self,
        merchant_uid: &str,
        amount: Won,
        name: &str,
        decision: Decision,
        notice_url: Option<String>,
    ) -> Result<Payment, CheckoutError> {
        self.checkout_allowed(merchant_uid, amount)?;
        let now = now();
        let mut payment = new_payment(merchant_uid, amount, "card", name, now);
        match decision {
            Decision::Approve => {
                payment.status = PaymentStatus::Paid;
                payment.paid_at = now;
                payment.receipt_url = Some(format!(
                    "https://example.invalid/receipt/{}",
                    payment.imp_uid
                ));
            }
            Decision::Decline => {
                payment.status = PaymentStatus::Failed;
                payment.failed_at = now;
                payment.fail_reason = Some("카드사 승인이 거절되었습니다. (simulated)".to_owned());
            }
            Decision::Close => {
                payment.status = PaymentStatus::Failed;
                payment.failed_at = now;
                payment.fail_reason = Some("사용자가 결제를 취소하셨습니다".to_owned());
            }
        }
        let mut books = self.books();
        // Checked again under the same lock as the insert: two approvals cannot both pay.
        if decision == Decision::Approve
            && books
                .payments
                .values()
                .any(|p| p.merchant_uid == merchant_uid && p.status == PaymentStatus::Paid)
        {
            return Err(CheckoutError::AlreadyPaid);
        }
        books
            .payments
            .insert(payment.imp_uid.clone(), payment.clone());
        if let Some(url) = notice_url {
            books.notice_urls.insert(payment.imp_uid.clone(), url);
        }
        if decision != Decision::Close {
            queue_notice(&mut books, &payment);
        }
        Ok(payment)
    }

    /// `POST /vbanks`: a virtual account, `ready`, waiting for its deposit.
    pub fn issue_vbank(&self, v: &VbankIssue) -> Answer {
        if let Some(refusal) = check_merchant_uid(&v.merchant_uid) {
            return refusal;
        }
        let now = now();
        if v.amount == Won::ZERO {
            return Answer::refused(400, "입금 예정 금액은 0보다 커야 합니다.");
        }
        if v.vbank_code.trim().is_empty() {
            return Answer::refused(400, "vbank_code는 필수입니다.");
        }
        if v.vbank_due <= now {
            return Answer::refused(400, "가상계좌 입금기한이 이미 지났습니다.");
        }
        let notice_url = match v.notice_url.as_deref().filter(|u| !u.trim().is_empty()) {
            None => None,
            Some(raw) => match self.resolve_notice_url(raw) {
                Some(url) => Some(url),
                None => {
                    return Answer::refused(
                        400,
                        "notice_url: the simulator only notifies this site",
                    )
                }
            },
        };
        let mut books = self.books();
        if let Some(prepared) = books.prepared.get(&v.merchant_uid) {
            if *prepared != v.amount {
                return Answer::refused(200, "사전등록된 결제금액과 일치하지 않습니다.");
            }
        }
        if books
            .payments
            .values()
            .any(|p| p.merchant_uid == v.merchant_uid && p.status == PaymentStatus::Paid)
        {
            return Answer::refused(200, "이미 결제가 이뤄진 merchant_uid입니다.");
        }
        let mut payment = new_payment(
            &v.merchant_uid,
            v.amount,
            "vbank",
            v.name.as_deref().unwrap_or(""),
            now,
        );
        payment.vbank_code = Some(v.vbank_code.clone());
        payment.vbank_name = Some(bank_name(&v.vbank_code));
        payment.vbank_num = Some(random_digits(14));
        payment.vbank_holder = Some(v.vbank_holder.clone().unwrap_or_default());
        payment.vbank_date = v.vbank_due;
        payment.vbank_issued_at = now;
        books
            .payments
            .insert(payment.imp_uid.clone(), payment.clone());
        if let Some(url) = notice_url {
            books.notice_urls.insert(payment.imp_uid.clone(), url);
        }
        queue_notice(&mut books, &payment);
        Answer::ok(payment)
    }

    /// `DELETE /vbanks/{imp_uid}`: void a virtual account still waiting for its deposit.
    pub fn revoke_vbank(&self, imp_uid: &str) -> Answer {
        let mut books = self.books();
        let Some(payment) = books.payments.get_mut(imp_uid) else {
            return Answer::not_found();
        };
        if payment.pay_method.as_deref() != Some("vbank") {
            return Answer::refused(400, "가상계좌 결제건이 아닙니다.");
        }
        if payment.status != PaymentStatus::Ready {
            return Answer::refused(400, "가상계좌가 입금대기 상태(ready)가 아닙니다.");
        }
        payment.status = PaymentStatus::Cancelled;
        payment.cancelled_at = now();
        payment.cancel_reason = Some("가상계좌 발급취소".to_owned());
        Answer::ok(payment.clone())
    }

    /// The deposit into a virtual account (the simulator's "deposit" button).
    pub fn deposit(&self, imp_uid: &str) -> Answer {
        let mut books = self.books();
        let Some(payment) = books.payments.get_mut(imp_uid) else {
            return Answer::not_found();
        };
        if payment.pay_method.as_deref() != Some("vbank") || payment.status != PaymentStatus::Ready
        {
            return Answer::refused(400, "입금대기 중인 가상계좌가 아닙니다.");
        }
        payment.status = PaymentStatus::Paid;
        payment.paid_at = now();
        let payment = payment.clone();
        queue_notice(&mut books, &payment);
        Answer::ok(payment)
    }

    /// `POST /payments/cancel`: all or part of what is still cancellable, checked against
    /// `checksum` when given.
    pub fn cancel(&self, c: &CancelOrder) -> Answer {
        let mut books = self.books();
        let found = match (&c.imp_uid, &c.merchant_uid) {
            (Some(imp_uid), _) if !imp_uid.is_empty() => books.payments.get_mut(imp_uid),
            (_, Some(merchant_uid)) if !merchant_uid.is_empty() => books
                .payments
                .values_mut()
                .find(|p| &p.merchant_uid == merchant_uid && p.status == PaymentStatus::Paid),
            _ => return Answer::refused(400, "imp_uid 또는 merchant_uid는 필수입니다."),
        };
        let Some(payment) = found else {
            return Answer::refused(200, "취소할 결제건이 존재하지 않습니다.");
        };
        match payment.status {
            PaymentStatus::Paid => {}
            PaymentStatus::Cancelled => return Answer::refused(200, "이미 전액취소된 주문입니다."),
            _ => return Answer::refused(200, "결제완료 상태가 아닌 주문은 취소할 수 없습니다."),
        }
        let cancellable = payment.cancellable();
        if let Some(checksum) = c.checksum {
            if checksum != cancellable {
                return Answer::refused(
                    200,
                    &format!(
                        "[checksum] 취소 가능 잔액이 일치하지 않습니다. (PortOne: {}, checksum: {})",
                        cancellable.get(),
                        checksum.get()
                    ),
                );
            }
        }
        let amount = match c.amount {
            Some(a) if a != Won::ZERO => a,
            _ => cancellable,
        };
        if amount > cancellable {
            return Answer::refused(
                200,
                &format!(
                    "취소요청금액({})이 취소가능금액({})을 초과합니다.",
                    amount.get(),
                    cancellable.get()
                ),
            );
        }
        if payment.pay_method.as_deref() == Some("vbank") && c.refund.is_none() {
            return Answer::refused(
                200,
                "가상계좌 환불에는 refund_holder, refund_bank, refund_account가 필요합니다.",
            );
        }
        let now = now();
        let reason = c.reason.clone().unwrap_or_default();
        payment.cancel_amount =
            Won::new(payment.cancel_amount.get().saturating_add(amount.get())).unwrap_or(Won::ZERO);
        payment.cancel_history.push(CancelHistory {
            pg_tid: format!("sim_cancel_{}", random_digits(12)),
            amount,
            cancelled_at: now,
            reason: reason.clone(),
            cancellation_id: random_digits(16),
        });
        payment.cancel_reason = Some(reason);
        if payment.cancel_amount >= payment.amount {
            payment.status = PaymentStatus::Cancelled;
            payment.cancelled_at = now;
        }
        Answer::ok(payment.clone())
    }
}

/// A `POST /vbanks` body as the simulator reads it.
#[derive(Debug, serde::Deserialize)]
pub struct VbankIssue {
    pub merchant_uid: String,
    #[serde(deserialize_with = "crate::portone::deserialize_won")]
    pub amount: Won,
    pub vbank_code: String,
    pub vbank_due: i64,
    #[serde(default)]
    pub vbank_holder: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub notice_url: Option<String>,
}

/// A `POST /payments/cancel` body as the simulator reads it.
#[derive(Debug, serde::Deserialize)]
pub struct CancelOrder {
    #[serde(default)]
    pub imp_uid: Option<String>,
    #[serde(default)]
    pub merchant_uid: Option<String>,
    #[serde(default, deserialize_with = "crate::portone::deserialize_opt_won")]
    pub amount: Option<Won>,
    #[serde(default, deserialize_with = "crate::portone::deserialize_opt_won")]
    pub checksum: Option<Won>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(flatten)]
    pub refund: Option<RefundAccount>,
}

/// Queue `payment`'s webhook (as many copies as the fault asks), if it has a `notice_url`.
fn queue_notice(books: &mut Books, payment: &Payment) {
    let Some(url) = books.notice_urls.get(&payment.imp_uid).cloned() else {
        return;
    };
    for _ in 0..books.webhook_copies.max(1) {
        books.outbox.push(Notice {
            url: url.clone(),
            imp_uid: payment.imp_uid.clone(),
            merchant_uid: payment.merchant_uid.clone(),
            status: payment.status,
        });
    }
}

fn check_merchant_uid(merchant_uid: &str) -> Option<Answer> {
    if merchant_uid.is_empty() || merchant_uid.chars().count() > 40 {
        Some(Answer::refused(400, "merchant_uid는 1~40자여야 합니다."))
    } else {
        None
    }
}

fn new_payment(merchant_uid: &str, amount: Won, pay_method: &str, name: &str, now: i64) -> Payment {
    Payment {
        imp_uid: format!("imp_{}", random_digits(12)),
        merchant_uid: merchant_uid.to_owned(),
        pay_method: Some(pay_method.to_owned()),
        pg_provider: Some("html5_inicis".to_owned()),
        name: Some(name.to_owned()),
        amount,
        cancel_amount: Won::ZERO,
        currency: Some("KRW".to_owned()),
        status: PaymentStatus::Ready,
        started_at: now,
        paid_at: 0,
        failed_at: 0,
        cancelled_at: 0,
        fail_reason: None,
        cancel_reason: None,
        vbank_code: None,
        vbank_name: None,
        vbank_num: None,
        vbank_holder: None,
        vbank_date: 0,
        vbank_issued_at: 0,
        receipt_url: None,
        cancel_history: Vec::new(),
    }
}
