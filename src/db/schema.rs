//! The one schema for both backends (hand-written; keep in step with both migration trees).

diesel::table! {
    regions (id) {
        id -> BigInt,
        parent_id -> Nullable<BigInt>,
        name -> Text,
        level -> Integer,
        full_name -> Text,
    }
}

diesel::table! {
    categories (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        password_hash -> Text,
        display_name -> Text,
        region_id -> BigInt,
        role -> Text,
        is_active -> Bool,
        created_at -> Timestamp,
        locale -> Nullable<Text>,
        region_changed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    wallets (user_id) {
        user_id -> BigInt,
        balance -> BigInt,
        locked -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    ledger_entries (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        delta_balance -> BigInt,
        delta_locked -> BigInt,
        reference -> Nullable<Text>,
        idempotency_key -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    products (id) {
        id -> BigInt,
        seller_id -> BigInt,
        name -> Text,
        description -> Text,
        price -> BigInt,
        quantity -> Integer,
        units_left -> Integer,
        status -> Text,
        category_id -> BigInt,
        region_id -> BigInt,
        image_path -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    trades (id) {
        id -> BigInt,
        product_id -> Nullable<BigInt>,
        buyer_id -> BigInt,
        seller_id -> BigInt,
        price -> BigInt,
        status -> Text,
        created_at -> Timestamp,
        approved_at -> Nullable<Timestamp>,
        confirmed_at -> Nullable<Timestamp>,
        auto_confirm_at -> Nullable<Timestamp>,
        quantity -> Integer,
        respond_by -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        auction_id -> Nullable<BigInt>,
        disputed_at -> Nullable<Timestamp>,
        resolution -> Nullable<Text>,
        resolution_reason -> Nullable<Text>,
        resolved_by -> Nullable<BigInt>,
        resolved_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    trade_disputes (id) {
        id -> BigInt,
        trade_id -> BigInt,
        user_id -> BigInt,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// One row per login; `id` is the SHA-256 (hex) of the token the session cookie carries.
    sessions (id) {
        id -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    payment_refunds (id) {
        id -> BigInt,
        payment_id -> BigInt,
        user_id -> BigInt,
        amount -> BigInt,
        checksum -> BigInt,
        reason -> Text,
        status -> Text,
        fail_reason -> Nullable<Text>,
        created_at -> Timestamp,
        settled_at -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    live_watchers (process, auction_id) {
        process -> Text,
        auction_id -> BigInt,
        watchers -> Integer,
        seen_at -> Timestamp,
    }
}

diesel::table! {
    once_keys (user_id, scope, once_key) {
        user_id -> BigInt,
        scope -> Text,
        once_key -> Text,
        outcome -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payouts (id) {
        id -> BigInt,
        user_id -> BigInt,
        amount -> BigInt,
        bank_code -> Text,
        account_number -> Text,
        account_holder -> Text,
        status -> Text,
        requested_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        decided_by -> Nullable<BigInt>,
        note -> Nullable<Text>,
    }
}

diesel::joinable!(users -> regions (region_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(wallets -> users (user_id));
diesel::joinable!(ledger_entries -> wallets (user_id));

diesel::table! {
    auctions (id) {
        id -> BigInt,
        seller_id -> BigInt,
        title -> Text,
        description -> Text,
        category_id -> BigInt,
        region_id -> BigInt,
        image_name -> Nullable<Text>,
        start_price -> BigInt,
        bid_unit -> BigInt,
        buy_now_price -> Nullable<BigInt>,
        current_price -> BigInt,
        leader_id -> Nullable<BigInt>,
        bid_count -> Integer,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        is_national -> Bool,
        status -> Text,
        winner_id -> Nullable<BigInt>,
        closed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        increment_table -> Bool,
        reserve_price -> Nullable<BigInt>,
        original_ends_at -> Nullable<Timestamp>,
        extensions -> Integer,
        leader_max -> Nullable<BigInt>,
    }
}

diesel::table! {
    bids (id) {
        id -> BigInt,
        auction_id -> BigInt,
        bidder_id -> BigInt,
        amount -> BigInt,
        is_buy_now -> Bool,
        created_at -> Timestamp,
        max_amount -> Nullable<BigInt>,
        is_auto -> Bool,
    }
}

diesel::table! {
    /// Every photo a member added, for the cap per 24 hours.
    uploads (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payments (id) {
        id -> BigInt,
        merchant_uid -> Text,
        user_id -> BigInt,
        amount -> BigInt,
        method -> Text,
        purpose -> Text,
        status -> Text,
        imp_uid -> Nullable<Text>,
        receipt_url -> Nullable<Text>,
        fail_reason -> Nullable<Text>,
        vbank_code -> Nullable<Text>,
        vbank_name -> Nullable<Text>,
        vbank_num -> Nullable<Text>,
        vbank_holder -> Nullable<Text>,
        vbank_due -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        paid_at -> Nullable<Timestamp>,
        trade_id -> Nullable<BigInt>,
        pay_by -> Nullable<Timestamp>,
        refund_bank -> Nullable<Text>,
        refund_account -> Nullable<Text>,
        refund_holder -> Nullable<Text>,
    }
}

diesel::table! {
    watchlist (user_id, auction_id) {
        user_id -> BigInt,
        auction_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        auction_id -> Nullable<BigInt>,
        product_id -> Nullable<BigInt>,
        trade_id -> Nullable<BigInt>,
        merchant_uid -> Nullable<Text>,
        payout_id -> Nullable<BigInt>,
        title -> Nullable<Text>,
        amount -> Nullable<BigInt>,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        chat_id -> Nullable<BigInt>,
    }
}

diesel::joinable!(uploads -> users (user_id));
diesel::joinable!(payments -> users (user_id));
diesel::joinable!(bids -> auctions (auction_id));
diesel::joinable!(bids -> users (bidder_id));
diesel::joinable!(auctions -> categories (category_id));
diesel::joinable!(auctions -> regions (region_id));

diesel::joinable!(products -> categories (category_id));
diesel::joinable!(products -> regions (region_id));
diesel::joinable!(products -> users (seller_id));
diesel::joinable!(trades -> products (product_id));
diesel::joinable!(trade_disputes -> trades (trade_id));
diesel::joinable!(trade_disputes -> users (user_id));
diesel::joinable!(watchlist -> auctions (auction_id));

diesel::table! {
    reviews (id) {
        id -> BigInt,
        trade_id -> BigInt,
        author_id -> BigInt,
        subject_id -> BigInt,
        rating -> Integer,
        comment -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    listing_photos (id) {
        id -> BigInt,
        auction_id -> Nullable<BigInt>,
        product_id -> Nullable<BigInt>,
        position -> Integer,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// A 1:1 conversation about one listing (an auction or a product) between its seller and
    /// one neighbour.
    chats (id) {
        id -> BigInt,
        product_id -> Nullable<BigInt>,
        auction_id -> Nullable<BigInt>,
        seller_id -> BigInt,
        neighbour_id -> BigInt,
        created_at -> Timestamp,
        last_message_at -> Timestamp,
        last_message_id -> BigInt,
        seller_read_id -> BigInt,
        neighbour_read_id -> BigInt,
    }
}

diesel::table! {
    chat_messages (id) {
        id -> BigInt,
        chat_id -> BigInt,
        sender_id -> BigInt,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    user_blocks (blocker_id, blocked_id) {
        blocker_id -> BigInt,
        blocked_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::joinable!(chat_messages -> chats (chat_id));

diesel::table! {
    /// Every time a late bid moved an auction's end (soft close), for the price chart.
    auction_extensions (id) {
        id -> BigInt,
        auction_id -> BigInt,
        at -> Timestamp,
        old_end_at -> Timestamp,
        new_end_at -> Timestamp,
    }
}

diesel::joinable!(auction_extensions -> auctions (auction_id));

diesel::allow_tables_to_appear_in_same_query!(
    regions,
    categories,
    users,
    wallets,
    ledger_entries,
    auctions,
    bids,
    products,
    trades,
    sessions,
    uploads,
    payments,
    payment_refunds,
    payouts,
    once_keys,
    live_watchers,
    trade_disputes,
    watchlist,
    notifications,
    reviews,
    listing_photos,
    chats,
    chat_messages,
    user_blocks,
    auction_extensions,
);
