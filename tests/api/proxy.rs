//! Proxy (maximum) bidding (issue 13 item 1), against a small reference model of the rules
//! written here, independently of the site's code: random sequences of maximums from several
//! bidders go through the real bid form, and after every step the price, the leader, the
//! leader's maximum and every bidder's wallet must be what the model says. Plus one example
//! test per rule.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::StatusCode;

use crate::helpers::{
    both_databases, expect_frame, local_in, next_frame, send_text, spawn_app, Browser, Db, Listing,
    TestApp,
};

both_databases!(
    random_maximums_from_four_bidders_move_price_leader_and_holds_as_the_model_says,
    equal_maximums_leave_the_earlier_bidder_in_the_lead,
    a_leader_raising_their_maximum_moves_only_the_difference,
    an_outbid_leader_gets_their_whole_maximum_back_at_once,
    the_winner_pays_the_price_and_gets_the_rest_of_their_maximum_back_at_close,
    buy_now_disappears_once_the_price_reaches_it,
    only_the_leader_sees_their_maximum_on_the_page_and_no_watcher_sees_it_live,
    the_audit_fails_when_a_leader_holds_less_than_their_maximum,
);

// ------------------------------------------------------------------ the reference model

/// The rules of proxy bidding as the issue states them, on plain numbers.
#[derive(Debug, Clone)]
pub struct Model {
    start: i64,
    reserve: Option<i64>,
    /// Has any bid been accepted (the first may equal the start price).
    any_bid: bool,
    pub price: i64,
    /// (leader, their maximum)
    lead: Option<(i64, i64)>,
    /// (balance, locked) per tracked bidder; untracked bidders have unlimited money.
    pub wallets: BTreeMap<i64, (i64, i64)>,
}

/// What an accepted bid came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Leads,
    OutbidAtOnce,
}

impl Model {
    /// An auction on the site's increment table, with an optional secret reserve.
    pub fn table(start: i64, reserve: Option<i64>) -> Model {
        Model {
            start,
            reserve,
            any_bid: false,
            price: start,
            lead: None,
            wallets: BTreeMap::new(),
        }
    }

    /// The published table, written out again: ₩1,000 below ₩50,000, ₩2,000 below ₩200,000,
    /// ₩5,000 below ₩1,000,000, ₩10,000 from there.
    fn step(price: i64) -> i64 {
        match price {
            p if p < 50_000 => 1_000,
            p if p < 200_000 => 2_000,
            p if p < 1_000_000 => 5_000,
            _ => 10_000,
        }
    }

    pub fn minimum(&self) -> i64 {
        if self.any_bid {
            self.price + Self::step(self.price)
        } else {
            self.start
        }
    }

    pub fn leader(&self) -> Option<i64> {
        self.lead.map(|(who, _)| who)
    }

    pub fn leader_max(&self) -> Option<i64> {
        self.lead.map(|(_, max)| max)
    }

    /// A maximum that reaches the reserve lifts the price to it.
    fn lifted(&self, price: i64, max: i64) -> i64 {
        match self.reserve {
            Some(r) if max >= r && price < r => r,
            _ => price,
        }
    }

    /// What `who` may still commit: their balance, plus their own hold when they lead.
    fn money(&self, who: i64) -> Option<i64> {
        let own = match self.lead {
            Some((l, max)) if l == who => max,
            _ => 0,
        };
        self.wallets.get(&who).map(|(balance, _)| balance + own)
    }

    fn hold(&mut self, who: i64, amount: i64) {
        if let Some((balance, locked)) = self.wallets.get_mut(&who) {
            *balance -= amount;
            *locked += amount;
        }
    }

    fn release(&mut self, who: i64, amount: i64) {
        self.hold(who, -amount);
    }

    /// Whether the rules accept a maximum of `max` from `who` (applying it when they do).
    pub fn accepts(&mut self, who: i64, max: i64) -> bool {
        self.bid(who, max).is_some()
    }

    /// Apply a maximum of `x` from `who`: `None` when the rules refuse it.
    pub fn bid(&mut self, who: i64, x: i64) -> Option<Outcome> {
        if x < self.minimum() || self.money(who).is_some_and(|m| m < x) {
            return None;
        }
        let outcome = match self.lead {
            None => {
                self.hold(who, x);
                self.price = self.lifted(self.price, x);
                self.lead = Some((who, x));
                Outcome::Leads
            }
            Some((l, max)) if l == who => {
                if x <= max {
                    return None;
                }
                self.hold(who, x - max);
                self.price = self.lifted(self.price, x);
                self.lead = Some((who, x));
                Outcome::Leads
            }
            Some((l, max)) if x > max => {
                self.release(l, max);
                self.hold(who, x);
                // The second-highest maximum plus one step, capped at the new leader's.
                self.price = self.lifted((max + Self::step(max)).min(x), x);
                self.lead = Some((who, x));
                Outcome::Leads
            }
            Some((_, max)) => {
                // Equal or lower: the earlier maximum keeps the lead, one step over this one.
                self.price = self.lifted((x + Self::step(x)).min(max), max);
                Outcome::OutbidAtOnce
            }
        };
        self.any_bid = true;
        Some(outcome)
    }

    /// The auction is cancelled: the leader's whole maximum comes back.
    pub fn cancel(&mut self) {
        if let Some((l, max)) = self.lead.take() {
            self.release(l, max);
        }
    }
}

// ------------------------------------------------------------------ the property test

/// How a step picks its maximum, resolved against the model's state when the step runs (so
/// ties, raises, too-low bids and bids beyond one's money all come up often).
#[derive(Debug, Clone)]
enum Pick {
    /// A plain amount (crossing the ₩50,000 band edge).
    Amount(i64),
    /// Exactly the minimum the page asks for.
    Minimum,
    /// One won below it.
    BelowMinimum,
    /// Exactly the leader's maximum.
    TieLeader,
    /// The leader's maximum plus a little (a raise when the bidder is the leader).
    OverLeader(i64),
    /// More than the bidder has.
    BeyondMoney,
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        4 => (10..=140_i64).prop_map(|k| Pick::Amount(k * 500)),
        2 => Just(Pick::Minimum),
        1 => Just(Pick::BelowMinimum),
        2 => Just(Pick::TieLeader),
        2 => (1..=12_i64).prop_map(|k| Pick::OverLeader(k * 500)),
        1 => Just(Pick::BeyondMoney),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    start: i64,
    reserve: Option<i64>,
    steps: Vec<(usize, Pick)>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        (5..=40_i64).prop_map(|k| k * 1_000),
        proptest::option::of((0..=40_i64).prop_map(|k| k * 1_000)),
        proptest::collection::vec((0..BIDDERS.len(), pick()), 1..=10),
    )
        .prop_map(|(start, extra, steps)| Case {
            start,
            // A reserve sits above the start price.
            reserve: extra.map(|e| start + e),
            steps,
        })
}

/// The bidders and what they are funded with (one has too little for the bigger maximums).
const BIDDERS: [(&str, i64); 4] = [
    ("ahn", 300_000),
    ("baek", 300_000),
    ("choi", 120_000),
    ("dong", 60_000),
];

fn wallet_rows(app: &TestApp, ids: &[i64]) -> BTreeMap<i64, (i64, i64)> {
    use diesel::prelude::*;
    use neighborbid::db::schema::wallets::dsl as w;
    w::wallets
        .filter(w::user_id.eq_any(ids))
        .select((w::user_id, w::balance, w::locked))
        .load::<(i64, i64, i64)>(&mut app.raw_connection())
        .expect("wallets")
        .into_iter()
        .map(|(id, balance, locked)| (id, (balance, locked)))
        .collect()
}

struct Cast {
    seller: Browser,
    admin: Browser,
    bidders: Vec<(i64, Browser)>,
}

/// One case: a fresh auction, the steps through the bid form compared with the model after
/// each one, then the admin cancels it and every hold must come back.
async fn run_case(app: &TestApp, cast: &Cast, n: usize, c: &Case) -> Result<(), TestCaseError> {
    let mut l = Listing::new(&format!("Proxy case {n}"));
    l.start_price = c.start.to_string();
    l.bid_unit = String::new();
    l.reserve_price = c.reserve.map(|r| r.to_string()).unwrap_or_default();
    let id = app.list(&cast.seller, &l).await;
    let ids: Vec<i64> = cast.bidders.iter().map(|(id, _)| *id).collect();
    let mut model = Model::table(c.start, c.reserve);
    model.wallets = wallet_rows(app, &ids);
    let at_start = model.wallets.clone();
    for (i, (who, pick)) in c.steps.iter().enumerate() {
        let (user, client) = &cast.bidders[*who];
        let leader_max = model.leader_max();
        let amount = match pick {
            Pick::Amount(a) => *a,
            Pick::Minimum => model.minimum(),
            Pick::BelowMinimum => model.minimum() - 1,
            Pick::TieLeader => leader_max.unwrap_or(model.minimum()),
            Pick::OverLeader(d) => leader_max.unwrap_or(model.minimum()) + d,
            Pick::BeyondMoney => model.money(*user).unwrap_or(0) + 500,
        };
        let before = model.clone();
        let expected = model.bid(*user, amount);
        let (status, body) = app.bid(client, id, amount).await;
        let step = format!("step {i}: {amount} by {user} ({pick:?}) on {before:?}");
        let wanted = if expected.is_some() {
            StatusCode::SEE_OTHER
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        prop_assert_eq!(status, wanted, "{}\n{:.400}", step, body);
        let (state, price, leader, _, count) = app.auction_row(id);
        prop_assert_eq!(state, "active");
        prop_assert_eq!(
            (price, leader, app.leader_max(id)),
            (model.price, model.leader(), model.leader_max()),
            "price, leader and maximum after {}",
            step
        );
        prop_assert_eq!(
            wallet_rows(app, &ids),
            model.wallets.clone(),
            "wallets after {}",
            step
        );
        let rows = app.bid_rows(id);
        prop_assert_eq!(count as usize, rows.len(), "the count is the history's");
        prop_assert_eq!(
            rows.last().map(|r| r.1),
            model.any_bid.then_some(model.price)
        );
    }
    // Every accepted submission left exactly one row of its own, with its maximum.
    let mut replay = Model::table(c.start, c.reserve);
    for (bidder, max) in app.submissions(id) {
        prop_assert!(replay.accepts(bidder, max), "{} by {}", max, bidder);
    }
    prop_assert_eq!(replay.price, model.price);

    let r = app
        .post(&cast.admin, &format!("/admin/auctions/{id}/cancel"), &[])
        .await;
    prop_assert_eq!(r.status(), StatusCode::SEE_OTHER);
    model.cancel();
    prop_assert_eq!(
        wallet_rows(app, &ids),
        model.wallets.clone(),
        "after cancel"
    );
    prop_assert_eq!(
        model.wallets.clone(),
        at_start,
        "every hold of this auction came back"
    );
    Ok(())
}

async fn random_maximums_from_four_bidders_move_price_leader_and_holds_as_the_model_says(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("proxy_seller").await;
    let admin = app.admin("proxy_admin").await;
    let mut bidders = Vec::new();
    for (name, money) in BIDDERS {
        let client = app.funded(name, money).await;
        bidders.push((app.user_id(name), client));
    }
    let cast = Cast {
        seller,
        admin,
        bidders,
    };
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config {
        cases: 20,
        max_shrink_iters: 64,
        failure_persistence: None,
        ..Config::default()
    });
    // Each run (shrinking included) lists a new auction.
    let n = std::sync::atomic::AtomicUsize::new(0);
    let result = tokio::task::block_in_place(|| {
        runner.run(&case(), |c| {
            let n = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            handle.block_on(run_case(&app, &cast, n, &c))
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    app.assert_audit_clean();
}

// ------------------------------------------------------------------ one example per rule

/// The auction page of `id` as `b` sees it.
async fn page(app: &TestApp, b: &Browser, id: i64) -> String {
    app.get_html(b, &format!("/auctions/{id}")).await.1
}

async fn equal_maximums_leave_the_earlier_bidder_in_the_lead(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("tie_seller").await;
    let first = app.funded("first", 100_000).await;
    let second = app.funded("second", 100_000).await;
    let id = app.list(&seller, &Listing::new("Tea set")).await;
    assert_eq!(app.bid(&first, id, 30_000).await.0, StatusCode::SEE_OTHER);
    // The same maximum later: accepted as a bid, but the earlier one keeps the lead.
    assert_eq!(app.bid(&second, id, 30_000).await.0, StatusCode::SEE_OTHER);
    let flash = page(&app, &second, id).await;
    assert!(
        flash.contains("Another bidder&#39;s maximum is higher: you were outbid at once. The price is now ₩30,000."),
        "{flash}"
    );
    let (first_id, second_id) = (app.user_id("first"), app.user_id("second"));
    assert_eq!(
        app.auction_row(id),
        ("active".to_owned(), 30_000, Some(first_id), None, 3)
    );
    assert_eq!(app.wallet(&first).await, (70_000, 30_000));
    assert_eq!(app.wallet(&second).await, (100_000, 0), "nothing held");
    assert_eq!(
        app.bid_rows(id),
        vec![
            (first_id, 10_000, Some(30_000), false),
            (second_id, 30_000, Some(30_000), false),
            (first_id, 30_000, None, true),
        ],
        "the second bid's own row, then the site's for the leader"
    );
    // Nobody can now tie at the price: the next bid must beat it by a step.
    let (status, body) = app.bid(&second, id, 30_000).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("at least ₩31,000"), "{body}");
    app.assert_audit_clean();
}

async fn a_leader_raising_their_maximum_moves_only_the_difference(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("raise_seller").await;
    let leader = app.funded("raiser", 100_000).await;
    let other = app.funded("other", 100_000).await;
    let id = app.list(&seller, &Listing::new("Bicycle")).await;
    assert_eq!(app.bid(&leader, id, 20_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.bid(&other, id, 15_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        app.auction_row(id).1,
        16_000,
        "one step over the challenger"
    );
    assert_eq!(app.wallet(&leader).await, (80_000, 20_000));
    let count = app.auction_row(id).4;

    assert_eq!(app.bid(&leader, id, 45_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        app.wallet(&leader).await,
        (55_000, 45_000),
        "only the difference moved"
    );
    let (_, price, lead, _, after) = app.auction_row(id);
    assert_eq!(
        (price, lead),
        (16_000, Some(app.user_id("raiser"))),
        "the price stays"
    );
    assert_eq!(after, count + 1, "the raise is in the history");
    assert_eq!(
        app.bid_rows(id).last(),
        Some(&(app.user_id("raiser"), 16_000, Some(45_000), false)),
        "shown at the price, the maximum kept for its bidder"
    );
    let (_, mine) = app.get_html(&leader, "/me/bids").await;
    assert!(
        mine.contains("₩45,000"),
        "my bids show my own maximum: {mine}"
    );
    let (_, theirs) = app.get_html(&other, "/me/bids").await;
    assert!(!theirs.contains("45,000"), "{theirs}");
    // Not higher than one's own maximum: refused, nothing moves.
    let (status, body) = app.bid(&leader, id, 45_000).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("You already lead with a maximum of ₩45,000"),
        "{body}"
    );
    // More than one has, counting one's own hold: refused.
    let (status, body) = app.bid(&leader, id, 101_000).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("You have ₩100,000 available"), "{body}");
    assert_eq!(app.wallet(&leader).await, (55_000, 45_000));
    assert_eq!(app.auction_row(id).4, after);
    app.assert_audit_clean();
}

async fn an_outbid_leader_gets_their_whole_maximum_back_at_once(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("band_seller").await;
    let early = app.funded("early", 200_000).await;
    let late = app.funded("late", 200_000).await;
    let mut l = Listing::new("Drum kit");
    l.bid_unit = String::new(); // the increment table
    let id = app.list(&seller, &l).await;
    assert_eq!(app.bid(&early, id, 50_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.wallet(&early).await, (150_000, 50_000));
    assert_eq!(app.auction_row(id).1, 10_000);
    assert_eq!(app.bid(&late, id, 80_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        app.wallet(&early).await,
        (200_000, 0),
        "the whole maximum came back, not only the price"
    );
    assert_eq!(app.wallet(&late).await, (120_000, 80_000));
    // ₩50,000 is in the ₩2,000 band: the price is one such step over the beaten maximum.
    assert_eq!(
        app.auction_row(id),
        (
            "active".to_owned(),
            52_000,
            Some(app.user_id("late")),
            None,
            3
        )
    );
    let (_, mine) = app.get_html(&early, "/me/bids").await;
    assert!(mine.contains("bid-state-outbid"), "{mine}");
    app.assert_audit_clean();
}

async fn the_winner_pays_the_price_and_gets_the_rest_of_their_maximum_back_at_close(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("close_seller").await;
    let winner = app.funded("winner", 100_000).await;
    let loser = app.funded("loser", 100_000).await;
    let mut l = Listing::new("Armchair");
    l.reserve_price = "30000".into();
    l.ends_at = local_in(3);
    let id = app.list(&seller, &l).await;
    assert_eq!(app.bid(&loser, id, 20_000).await.0, StatusCode::SEE_OTHER);
    assert!(page(&app, &loser, id).await.contains("Reserve not met"));
    // A maximum over the reserve lifts the price to it at once.
    assert_eq!(app.bid(&winner, id, 60_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.auction_row(id).1, 30_000);
    assert!(page(&app, &loser, id).await.contains("Reserve met"));
    assert_eq!(app.wallet(&winner).await, (40_000, 60_000));
    assert_eq!(app.wait_closed(id).await, "sold");
    assert_eq!(
        app.wallet(&winner).await,
        (70_000, 30_000),
        "the price stays held for the trade, the other ₩30,000 of the maximum is back"
    );
    assert_eq!(app.wallet(&seller).await, (0, 0), "paid on confirmation");
    assert_eq!(app.wallet(&loser).await, (100_000, 0));
    assert!(page(&app, &winner, id)
        .await
        .contains("You won this auction for <strong>₩30,000</strong>"));
    assert_eq!(
        app.confirm_auction_trade(&winner, id).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.wallet(&winner).await, (70_000, 0), "paid ₩30,000");
    assert_eq!(app.wallet(&seller).await, (30_000, 0));
    app.assert_audit_clean();
}

async fn buy_now_disappears_once_the_price_reaches_it(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("bin_seller").await;
    let high = app.funded("high", 200_000).await;
    let rival = app.funded("rival", 200_000).await;
    let buyer = app.funded("buyer", 200_000).await;
    let mut l = Listing::new("Camera");
    l.bid_unit = String::new(); // the increment table
    l.buy_now_price = "50000".into();
    let id = app.list(&seller, &l).await;
    let rule = "It is offered until the bids bring the price to ₩50,000.";
    assert!(page(&app, &buyer, id).await.contains(rule));
    // A maximum may pass the buy-now price; the price stays well below it.
    assert_eq!(app.bid(&high, id, 60_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.auction_row(id).1, 10_000);
    let before = page(&app, &buyer, id).await;
    assert!(before.contains("Buy now for ₩50,000"), "{before}");
    // The rival's maximum pushes the price past the buy-now price.
    assert_eq!(app.bid(&rival, id, 55_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.auction_row(id).1, 57_000);
    let after = page(&app, &buyer, id).await;
    assert!(!after.contains("buy-now-form"), "{after}");
    assert!(!after.contains(rule), "{after}");
    // A purchase posted anyway (an old page) is refused, and nothing moves.
    let r = app
        .post(
            &buyer,
            &format!("/auctions/{id}/buy-now"),
            &[("expected_price", "50000")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("buy now is no longer offered"), "{body}");
    assert_eq!(app.wallet(&buyer).await, (200_000, 0));
    assert_eq!(app.wallet(&high).await, (140_000, 60_000));
    assert_eq!(app.auction_row(id).0, "active");

    // Below the buy-now price it stays offered, and a leader whose maximum is above it pays
    // the buy-now price from the hold and gets the rest back.
    let other = app.list(&seller, &l).await;
    assert_eq!(
        app.bid(&rival, other, 70_000).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.wallet(&rival).await, (130_000, 70_000));
    assert_eq!(app.buy_now(&rival, other).await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        app.wallet(&rival).await,
        (150_000, 50_000),
        "the buy-now price stays held for the trade, the rest of the maximum is back"
    );
    assert_eq!(app.auction_row(other).0, "sold");
    app.assert_audit_clean();
}

async fn only_the_leader_sees_their_maximum_on_the_page_and_no_watcher_sees_it_live(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("secret_seller").await;
    let leader = app.funded("keeper", 100_000).await;
    let rival = app.funded("peeker", 100_000).await;
    let mut l = Listing::new("Record player");
    l.national = true;
    let id = app.list(&seller, &l).await;
    let mut anon_ws = app.ws(id, None).await;
    expect_frame(&mut anon_ws, "state", "₩10,000").await;
    let mut rival_ws = rival.ws(id).await;
    expect_frame(&mut rival_ws, "state", "₩10,000").await;

    assert_eq!(app.bid(&leader, id, 37_000).await.0, StatusCode::SEE_OTHER);
    let mine = page(&app, &leader, id).await;
    assert!(
        mine.contains("with a maximum of <strong class=\"my-max\">₩37,000</strong> held"),
        "{mine}"
    );
    assert!(mine.contains("Enter the most you will pay; we bid for you only as much as needed"));
    for html in [
        page(&app, &rival, id).await,
        page(&app, &seller, id).await,
        app.get_html(&app.client(), &format!("/auctions/{id}"))
            .await
            .1,
    ] {
        assert!(!html.contains("37,000"), "{html}");
        assert!(!html.contains("my-max"), "{html}");
        assert!(html.contains("Enter the most you will pay"), "{html}");
    }
    // The live panel's fragment is the same for every watcher: the price, never the maximum.
    for ws in [&mut anon_ws, &mut rival_ws] {
        let html = expect_frame(ws, "state", "Neighbour keeper").await;
        assert!(
            html.contains("₩10,000") && !html.contains("37,000"),
            "{html}"
        );
    }
    // The rival bids below it over the socket: told at once, price one step over, and no
    // frame to anyone carries the maximum.
    send_text(
        &mut rival_ws,
        r#"{"type":"bid","amount":"30000","key":"0123456789abcdef0123456789abcdee"}"#,
    )
    .await;
    let mut seen = Vec::new();
    while let Some(frame) = next_frame(&mut rival_ws, Duration::from_secs(2)).await {
        seen.push(frame.to_string());
    }
    assert!(
        seen.iter()
            .any(|f| f.contains("outbid") && f.contains("The price is now ₩31,000")),
        "{seen:?}"
    );
    assert!(seen.iter().all(|f| !f.contains("37,000")), "{seen:?}");
    assert_eq!(app.auction_row(id).1, 31_000);
    assert_eq!(app.wallet(&rival).await, (100_000, 0));
    app.assert_audit_clean();
}

async fn the_audit_fails_when_a_leader_holds_less_than_their_maximum(db: Db) {
    use diesel::RunQueryDsl;
    let app = spawn_app(db).await;
    let seller = app.sign_up("promise_seller").await;
    let leader = app.funded("promiser", 100_000).await;
    let honest = app.funded("honest", 100_000).await;
    let id = app.list(&seller, &Listing::new("Kettle")).await;
    let other = app.list(&seller, &Listing::new("Teapot")).await;
    assert_eq!(app.bid(&leader, id, 40_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        app.bid(&honest, other, 20_000).await.0,
        StatusCode::SEE_OTHER
    );
    app.assert_audit_clean();
    // A maximum raised behind the site's back: promised but not held.
    diesel::sql_query(format!(
        "UPDATE auctions SET leader_max = leader_max + 1 WHERE id = {id}"
    ))
    .execute(&mut app.raw_connection())
    .unwrap();
    let (clean, text) = app.audit();
    assert!(!clean, "{text}");
    assert!(
        text.contains("holds ₩40,000 but leads open auctions with maximums of ₩40,001"),
        "{text}"
    );
    assert!(text.contains("wallet of promiser"), "{text}");
    assert!(!text.contains("wallet of honest"), "{text}");
}
