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
        product_id -> BigInt,
        buyer_id -> BigInt,
        seller_id -> BigInt,
        price -> BigInt,
        status -> Text,
        created_at -> Timestamp,
        approved_at -> Nullable<Timestamp>,
        confirmed_at -> Nullable<Timestamp>,
        auto_confirm_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(users -> regions (region_id));
diesel::joinable!(wallets -> users (user_id));
diesel::joinable!(ledger_entries -> wallets (user_id));

diesel::joinable!(products -> categories (category_id));
diesel::joinable!(products -> regions (region_id));
diesel::joinable!(products -> users (seller_id));
diesel::joinable!(trades -> products (product_id));

diesel::allow_tables_to_appear_in_same_query!(
    regions,
    categories,
    users,
    wallets,
    ledger_entries,
    products,
    trades
);
