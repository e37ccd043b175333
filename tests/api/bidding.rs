//! Bidding, buy-now and closing: the money rules, under real concurrency, on both databases.

use futures_util::future::join_all;
use reqwest::StatusCode;

use crate::helpers::{both_databases, local_in, min_bid, spawn_app, spawn_app_with, Db, Listing};

both_databases!(
    a_neighbour_lists_is_outbid_wins_and_the_seller_is_paid,
    bid_rules_are_enforced_and_a_refused_bid_changes_nothing,
    bids_after_the_end_are_refused_even_before_the_scheduler_closes,
    a_hundred_bidders_bidding_ten_times_at_once_keep_the_books_straight,
    two_users_outbidding_each_other_on_two_auctions_never_deadlock,
    the_same_ten_thousand_won_cannot_lead_two_auctions,
    buy_now_racing_bids_has_exactly_one_outcome,
    closing_racing_last_second_bids_has_exactly_one_winner,
    buy_now_racing_the_close_pays_the_seller_once,
    buy_now_by_the_leader_uses_their_hold,
);

async fn a_neighbour_lists_is_outbid_wins_and_the_seller_is_paid(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("seller").await;
    let minji = app.funded("minji", 100_000).await;
    let jisoo = app.funded("jisoo", 100_000).await;
    let mut l = Listing::new("Rice cooker");
    l.ends_at = local_in(3);
    let id = app.list(&seller, &l).await;

    assert_eq!(app.bid(&minji, id, 10_000).await.0, StatusCode::SEE_OTHER);
    let (_, page) = app.get_html(&minji, &format!("/auctions/{id}")).await;
    assert!(page.contains("Your bid of ₩10,000 leads"));
    assert!(page.contains("You are the leading bidder"));
    assert_eq!(min_bid(&page), Some(11_000));
    assert_eq!(app.wallet(&minji).await, (90_000, 10_000));

    let (minji_id, jisoo_id) = (app.user_id("minji"), app.user_id("jisoo"));
    assert_eq!(
        app.auction_row(id),
        ("active".to_owned(), 10_000, Some(minji_id), None, 1),
        "a first bid prices at the start price"
    );

    // Jisoo's maximum of 15,000 beats minji's 10,000: the site bids one step over it.
    assert_eq!(app.bid(&jisoo, id, 15_000).await.0, StatusCode::SEE_OTHER);
    let (_, page) = app.get_html(&jisoo, &format!("/auctions/{id}")).await;
    assert!(
        page.contains("You lead at ₩11,000. Your maximum of ₩15,000 is held"),
        "{page}"
    );
    assert_eq!(
        app.wallet(&minji).await,
        (100_000, 0),
        "the outbid hold is released"
    );
    assert_eq!(
        app.wallet(&jisoo).await,
        (85_000, 15_000),
        "the whole maximum is held"
    );
    assert_eq!(
        app.auction_row(id),
        ("active".to_owned(), 11_000, Some(jisoo_id), None, 2)
    );
    let (_, mine) = app.get_html(&minji, "/me/bids").await;
    assert!(mine.contains("bid-state-outbid"));
    // Raising one's own maximum moves only the difference; the price stays.
    assert_eq!(app.bid(&jisoo, id, 17_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.wallet(&jisoo).await, (83_000, 17_000));
    assert_eq!(app.auction_row(id).1, 11_000);
    assert_eq!(app.leader_max(id), Some(17_000));
    assert_eq!(
        app.submissions(id),
        vec![(minji_id, 10_000), (jisoo_id, 15_000), (jisoo_id, 17_000)],
        "each accepted bid left one row with its maximum"
    );

    assert_eq!(app.wait_closed(id).await, "sold");
    // The winner's maximum beyond the price comes back at the close; the price stays held
    // (buyer protection) and the seller waits for the receipt.
    assert_eq!(
        app.wallet(&jisoo).await,
        (89_000, 11_000),
        "the price stays held, the rest of the maximum is back"
    );
    assert_eq!(app.wallet(&seller).await, (0, 0), "not paid at the close");
    assert_eq!(app.wallet(&minji).await, (100_000, 0));
    let (_, won) = app.get_html(&jisoo, &format!("/auctions/{id}")).await;
    assert!(won.contains("You won this auction for <strong>₩11,000</strong>"));
    assert!(won.contains("Your money is held until you confirm receipt"));
    let (_, sold) = app.get_html(&seller, &format!("/auctions/{id}")).await;
    assert!(sold.contains("Sold to Neighbour jisoo for <strong>₩11,000</strong>"));
    assert!(sold.contains("The buyer&#39;s money is held until they confirm receipt"));
    assert_eq!(
        app.confirm_auction_trade(&jisoo, id).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.wallet(&jisoo).await,
        (89_000, 0),
        "the winner paid the price from the hold"
    );
    assert_eq!(
        app.wallet(&seller).await,
        (11_000, 0),
        "the seller was paid the price on confirmation"
    );
    let (_, other) = app.get_html(&minji, &format!("/auctions/{id}")).await;
    assert!(other.contains("Sold for <strong>₩11,000</strong>"));
    let (_, mine) = app.get_html(&jisoo, "/me/bids").await;
    assert!(mine.contains("bid-state-won"));
    let (_, lost) = app.get_html(&minji, "/me/bids").await;
    assert!(lost.contains("bid-state-lost"));
    let (_, journal) = app.get_html(&seller, "/wallet").await;
    assert!(journal.contains("Sale proceeds"));
    app.assert_audit_clean();
}

async fn bid_rules_are_enforced_and_a_refused_bid_changes_nothing(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.funded("owner", 50_000).await;
    let bidder = app.funded("rules", 30_000).await;
    let mut l = Listing::new("Guitar");
    l.buy_now_price = "60000".into();
    let id = app.list(&seller, &l).await;
    let token = app.csrf(&bidder).await;
    let huge = "9".repeat(5000);
    let cases: Vec<(&str, &str)> = vec![
        ("9000", "at least ₩10,000"),
        ("10500", "steps of ₩1,000"),
        // A maximum may pass the buy-now price; this one is refused only for want of money.
        (
            "70000",
            "You have ₩30,000 available, but this bid needs ₩70,000",
        ),
        (
            "40000",
            "You have ₩30,000 available, but this bid needs ₩40,000",
        ),
        ("abc", "whole number"),
        ("-10000", "more than zero"),
        ("0", "more than zero"),
        ("1e30", "whole number"),
        ("", "Enter an amount"),
        (&huge, "far too large"),
    ];
    for (amount, reason) in &cases {
        let (status, body) = app.bid_with(&bidder, &token, id, amount).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{amount:.20}");
        assert!(
            body.contains(reason),
            "expected {reason:?} for {amount:.20}"
        );
    }
    let (status, body) = app.bid(&seller, id, 10_000).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("cannot bid on your own auction"));
    let (status, body) = app.buy_now(&seller, id).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("cannot buy your own item"));
    let (status, body) = app.buy_now(&bidder, id).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("buying now costs ₩60,000"));
    assert_eq!(
        app.bid(&bidder, 987_654, 10_000).await.0,
        StatusCode::NOT_FOUND
    );
    let anon = app.client();
    let r = app
        .post(
            &anon,
            &format!("/auctions/{id}/bids"),
            &[("amount", "10000")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));

    assert_eq!(
        app.auction_row(id),
        ("active".to_owned(), 10_000, None, None, 0)
    );
    assert_eq!(app.wallet(&bidder).await, (30_000, 0));
    assert_eq!(app.wallet(&seller).await, (50_000, 0));
    assert!(app.bid_amounts(id).is_empty());
    app.assert_audit_clean();
}

async fn bids_after_the_end_are_refused_even_before_the_scheduler_closes(db: Db) {
    let app = spawn_app_with(db, |s| s.scheduler = false).await;
    let seller = app.sign_up("late_seller").await;
    let bidder = app.funded("late", 100_000).await;
    let mut l = Listing::new("Ends now");
    // Two seconds ahead: a loaded machine may take a second to get the listing in.
    l.ends_at = local_in(2);
    l.buy_now_price = "50000".into();
    let id = app.list(&seller, &l).await;
    tokio::time::sleep(std::time::Duration::from_millis(3000)).await;
    assert_eq!(
        app.auction_row(id).0,
        "active",
        "not closed yet: the scheduler is off"
    );
    let (status, body) = app.bid(&bidder, id, 10_000).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("This auction has ended"));
    let (status, body) = app.buy_now(&bidder, id).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("This auction has ended"));
    assert_eq!(app.wallet(&bidder).await, (100_000, 0));
    assert!(app.bid_amounts(id).is_empty());
    app.assert_audit_clean();
}

async fn a_hundred_bidders_bidding_ten_times_at_once_keep_the_books_straight(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("hot_seller").await;
    let mut l = Listing::new("Hot item");
    l.start_price = "1000".into();
    let id = app.list(&seller, &l).await;
    let bidders = join_all((0..100).map(|i| {
        let app = &app;
        async move { app.funded(&format!("bidder{i}"), 10_000_000).await }
    }))
    .await;
    let results = join_all(bidders.iter().map(|client| {
        let app = &app;
        async move {
            let token = app.csrf(client).await;
            let mut next = 1000;
            let mut statuses = Vec::new();
            for _ in 0..10 {
                let (status, body) = app.bid_with(client, &token, id, &next.to_string()).await;
                statuses.push(status);
                next = match status {
                    StatusCode::SEE_OTHER => next + 1000,
                    _ => min_bid(&body).unwrap_or(next + 1000),
                };
            }
            statuses
        }
    }))
    .await;
    let all: Vec<StatusCode> = results.into_iter().flatten().collect();
    assert_eq!(all.len(), 1000);
    assert!(
        all.iter()
            .all(|s| *s == StatusCode::SEE_OTHER || *s == StatusCode::UNPROCESSABLE_ENTITY),
        "no 5xx: {all:?}"
    );
    let accepted = all.iter().filter(|s| **s == StatusCode::SEE_OTHER).count();
    let submissions = app.submissions(id);
    assert_eq!(submissions.len(), accepted, "one row per accepted bid");
    let rows = app.bid_rows(id);
    assert!(
        rows.windows(2).all(|w| w[0].1 <= w[1].1),
        "the price shown in the history never falls"
    );
    let (status, price, leader, _, count) = app.auction_row(id);
    assert_eq!(status, "active");
    assert_eq!(count as usize, rows.len());
    assert_eq!(Some(price), rows.last().map(|r| r.1));
    // The rules replayed on the accepted maximums in their commit order give the same end.
    let mut model = crate::proxy::Model::table(1_000, None);
    for (bidder, max) in &submissions {
        let before = model.clone();
        assert!(
            model.accepts(*bidder, *max),
            "an accepted bid the rules refuse: {max} by {bidder} on {before:?}"
        );
    }
    assert_eq!((price, leader), (model.price, model.leader()));
    assert_eq!(app.leader_max(id), model.leader_max());
    let holds = app.holds();
    assert_eq!(holds.len(), 1, "exactly one hold: {holds:?}");
    assert_eq!(
        Some(holds[0].2),
        app.leader_max(id),
        "the hold is the leader's whole maximum"
    );
    assert_eq!(Some(holds[0].0), leader);
    app.assert_audit_clean();
}

async fn two_users_outbidding_each_other_on_two_auctions_never_deadlock(db: Db) {
    let app = spawn_app(db).await;
    let s1 = app.sign_up("seller_x").await;
    let s2 = app.sign_up("seller_y").await;
    let mut lx = Listing::new("X");
    lx.start_price = "1000".into();
    lx.bid_unit = "1".into();
    let mut ly = lx.clone();
    ly.title = "Y".into();
    let x = app.list(&s1, &lx).await;
    let y = app.list(&s2, &ly).await;
    let a = app.funded("probe_a", 10_000_000).await;
    let b = app.funded("probe_b", 10_000_000).await;
    let (ta, tb) = (app.csrf(&a).await, app.csrf(&b).await);
    let mut statuses = Vec::new();
    for round in 0..200_i64 {
        // A bids on X while B bids on Y, then they swap: each bid releases the other's hold.
        let base = 1000 + round * 10;
        let amounts = [1, 2, 5, 6].map(|d| (base + d).to_string());
        let (r1, r2) = tokio::join!(
            app.bid_with(&a, &ta, x, &amounts[0]),
            app.bid_with(&b, &tb, y, &amounts[1]),
        );
        let (r3, r4) = tokio::join!(
            app.bid_with(&a, &ta, y, &amounts[2]),
            app.bid_with(&b, &tb, x, &amounts[3]),
        );
        statuses.extend([r1.0, r2.0, r3.0, r4.0]);
    }
    let errors: Vec<_> = statuses.iter().filter(|s| s.is_server_error()).collect();
    assert!(errors.is_empty(), "no 5xx: {errors:?}");
    assert!(
        statuses.iter().all(|s| *s == StatusCode::SEE_OTHER),
        "every bid here is valid and accepted"
    );
    let (ida, idb) = (app.user_id("probe_a"), app.user_id("probe_b"));
    for auction in [x, y] {
        assert_eq!(
            app.submissions(auction).len(),
            400,
            "one row per accepted bid"
        );
        assert_eq!(
            app.auction_row(auction).4 as usize,
            app.bid_rows(auction).len()
        );
    }
    // The last round: B's 2,996 beat A's 2,991 on X, A's 2,995 beat B's 2,992 on Y; each
    // price is one unit over the beaten maximum.
    assert_eq!(
        app.auction_row(x),
        (
            "active".to_owned(),
            2_992,
            Some(idb),
            None,
            app.auction_row(x).4
        )
    );
    assert_eq!(app.leader_max(x), Some(2_996));
    assert_eq!(
        app.auction_row(y),
        (
            "active".to_owned(),
            2_993,
            Some(ida),
            None,
            app.auction_row(y).4
        )
    );
    assert_eq!(app.leader_max(y), Some(2_995));
    let mut holds = app.holds();
    holds.sort();
    assert_eq!(
        holds,
        vec![
            (ida, 10_000_000 - 2_995, 2_995),
            (idb, 10_000_000 - 2_996, 2_996)
        ]
    );
    app.assert_audit_clean();
}

async fn the_same_ten_thousand_won_cannot_lead_two_auctions(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("twin_seller").await;
    for round in 0..5 {
        let spender = app.funded(&format!("spender{round}"), 10_000).await;
        let one = app
            .list(&seller, &Listing::new(&format!("One {round}")))
            .await;
        let two = app
            .list(&seller, &Listing::new(&format!("Two {round}")))
            .await;
        let token = app.csrf(&spender).await;
        let (r1, r2) = tokio::join!(
            app.bid_with(&spender, &token, one, "10000"),
            app.bid_with(&spender, &token, two, "10000"),
        );
        let ok = [r1.0, r2.0]
            .iter()
            .filter(|s| **s == StatusCode::SEE_OTHER)
            .count();
        assert_eq!(ok, 1, "exactly one succeeds: {:?} {:?}", r1.0, r2.0);
        assert!([r1.0, r2.0].contains(&StatusCode::UNPROCESSABLE_ENTITY));
        assert_eq!(app.wallet(&spender).await, (0, 10_000));
    }
    app.assert_audit_clean();
}

async fn buy_now_racing_bids_has_exactly_one_outcome(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("race_seller").await;
    let buyer = app.funded("buyer", 1_000_000).await;
    let bidders = join_all((0..10).map(|i| {
        let app = &app;
        async move { app.funded(&format!("racer{i}"), 1_000_000).await }
    }))
    .await;
    for round in 0..3 {
        let mut l = Listing::new(&format!("Race {round}"));
        l.buy_now_price = "100000".into();
        let id = app.list(&seller, &l).await;
        let before_seller = app.wallet(&seller).await.0;
        let bids = bidders.iter().enumerate().map(|(i, c)| {
            let app = &app;
            async move { app.bid(c, id, 10_000 + i as i64 * 1000).await.0 }
        });
        let (bid_statuses, bought) = tokio::join!(join_all(bids), app.buy_now(&buyer, id));
        assert_eq!(
            bought.0,
            StatusCode::SEE_OTHER,
            "buy-now succeeds while the auction is open"
        );
        assert!(bid_statuses
            .iter()
            .all(|s| *s == StatusCode::SEE_OTHER || *s == StatusCode::UNPROCESSABLE_ENTITY));
        let (status, price, leader, winner, _) = app.auction_row(id);
        assert_eq!(status, "sold");
        assert_eq!(price, 100_000);
        assert_eq!(winner, Some(app.user_id("buyer")));
        assert_eq!(leader, winner);
        // Buyer protection: every other hold is released; the buyer's price stays held
        // until the buyer confirms receipt, and only then is the seller paid, once.
        let buyer_id = app.user_id("buyer");
        assert_eq!(
            app.holds().iter().map(|h| (h.0, h.2)).collect::<Vec<_>>(),
            vec![(buyer_id, 100_000)],
            "every bidder's hold was released; the buyer's is held"
        );
        assert_eq!(app.wallet(&seller).await.0, before_seller, "not paid yet");
        assert_eq!(
            app.confirm_auction_trade(&buyer, id).await,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            app.wallet(&seller).await.0 - before_seller,
            100_000,
            "the seller is paid once"
        );
        assert!(app.holds().is_empty());
        let amounts = app.bid_amounts(id);
        assert_eq!(
            amounts.last(),
            Some(&100_000),
            "the purchase is the last bid"
        );
        assert!(amounts.windows(2).all(|w| w[0] < w[1]));
    }
    assert_eq!(app.wallet(&buyer).await, (700_000, 0));
    app.assert_audit_clean();
}

async fn closing_racing_last_second_bids_has_exactly_one_winner(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("close_seller").await;
    let bidders = join_all((0..8).map(|i| {
        let app = &app;
        async move { app.funded(&format!("closer{i}"), 10_000_000).await }
    }))
    .await;
    let mut l = Listing::new("Last second");
    l.start_price = "1000".into();
    l.ends_at = local_in(2);
    let id = app.list(&seller, &l).await;
    // Everyone keeps bidding until the auction refuses them.
    let loops = bidders.iter().map(|c| {
        let app = &app;
        async move {
            let token = app.csrf(c).await;
            let mut next = 1000;
            let mut statuses = Vec::new();
            for _ in 0..400 {
                let (status, body) = app.bid_with(c, &token, id, &next.to_string()).await;
                statuses.push(status);
                if body.contains("This auction has ended") {
                    break;
                }
                next = if status == StatusCode::SEE_OTHER {
                    next + 1000
                } else {
                    min_bid(&body).unwrap_or(next + 1000)
                };
            }
            statuses
        }
    });
    let statuses: Vec<StatusCode> = join_all(loops).await.into_iter().flatten().collect();
    assert!(statuses.iter().all(|s| !s.is_server_error()), "no 5xx");
    assert_eq!(app.wait_closed(id).await, "sold");
    let (_, price, leader, winner, count) = app.auction_row(id);
    assert_eq!(winner, leader, "the winner is the leader at the close");
    assert_eq!(app.bid_amounts(id).len(), count as usize);
    assert_eq!(app.bid_amounts(id).last(), Some(&price));
    let winner = winner.expect("a winner");
    assert_eq!(
        app.holds(),
        vec![(winner, app.holds()[0].1, price)],
        "every other hold released; the winner's held for the trade"
    );
    assert_eq!(app.wallet(&seller).await, (0, 0), "not paid at the close");
    let winner_client = (0..bidders.len())
        .find(|i| app.user_id(&format!("closer{i}")) == winner)
        .map(|i| &bidders[i])
        .expect("the winner is a bidder");
    assert_eq!(
        app.confirm_auction_trade(winner_client, id).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.wallet(&seller).await,
        (price, 0),
        "the seller got the final price, once"
    );
    assert!(
        app.holds().is_empty(),
        "the winner's hold was paid out, every other released"
    );
    app.assert_audit_clean();
}

async fn buy_now_racing_the_close_pays_the_seller_once(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("edge_seller").await;
    let buyer = app.funded("edge_buyer", 1_000_000).await;
    let leader = app.funded("edge_leader", 1_000_000).await;
    for round in 0..3 {
        let mut l = Listing::new(&format!("Edge {round}"));
        l.buy_now_price = "90000".into();
        l.ends_at = local_in(2);
        let id = app.list(&seller, &l).await;
        assert_eq!(app.bid(&leader, id, 10_000).await.0, StatusCode::SEE_OTHER);
        let before = app.wallet(&seller).await.0;
        // Keep pressing Buy now across the end.
        let mut outcomes = Vec::new();
        for _ in 0..400 {
            let (status, _) = app.buy_now(&buyer, id).await;
            outcomes.push(status);
            if status == StatusCode::SEE_OTHER || app.auction_row(id).0 != "active" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let status = app.wait_closed(id).await;
        assert_eq!(status, "sold");
        let (_, price, _, winner, _) = app.auction_row(id);
        assert_eq!(app.wallet(&seller).await.0, before, "not paid at the sale");
        let winner_client = if winner == Some(app.user_id("edge_buyer")) {
            &buyer
        } else {
            &leader
        };
        assert_eq!(
            app.confirm_auction_trade(winner_client, id).await,
            StatusCode::SEE_OTHER
        );
        let paid = app.wallet(&seller).await.0 - before;
        assert_eq!(paid, price, "the seller is paid exactly once");
        if winner == Some(app.user_id("edge_buyer")) {
            assert_eq!(price, 90_000);
        } else {
            assert_eq!((winner, price), (Some(app.user_id("edge_leader")), 10_000));
        }
        assert!(outcomes.iter().all(|s| !s.is_server_error()));
        assert!(app.holds().is_empty());
    }
    app.assert_audit_clean();
}

async fn buy_now_by_the_leader_uses_their_hold(db: Db) {
    let app = spawn_app(db).await;
    let seller = app.sign_up("hold_seller").await;
    let leader = app.funded("hold_leader", 60_000).await;
    let mut l = Listing::new("Use the hold");
    l.buy_now_price = "60000".into();
    let id = app.list(&seller, &l).await;
    assert_eq!(app.bid(&leader, id, 20_000).await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.wallet(&leader).await, (40_000, 20_000));
    // ₩40,000 available plus the ₩20,000 hold covers ₩60,000.
    assert_eq!(app.buy_now(&leader, id).await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        app.wallet(&leader).await,
        (0, 60_000),
        "the whole price held"
    );
    assert_eq!(app.wallet(&seller).await, (0, 0), "paid on receipt only");
    let (_, page) = app.get_html(&leader, &format!("/auctions/{id}")).await;
    assert!(page.contains("You won this auction for <strong>₩60,000</strong>"));
    assert_eq!(
        app.confirm_auction_trade(&leader, id).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.wallet(&leader).await, (0, 0));
    assert_eq!(app.wallet(&seller).await, (60_000, 0));
    app.assert_audit_clean();
}
