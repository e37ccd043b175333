-- Foundation: reference data, accounts, wallets and the append-only money journal.
CREATE TABLE regions (
    id INTEGER PRIMARY KEY,
    parent_id BIGINT REFERENCES regions(id),
    name TEXT NOT NULL,
    level INTEGER NOT NULL CHECK (level IN (1, 2, 3)),
    full_name TEXT NOT NULL
);
CREATE INDEX regions_parent_idx ON regions (parent_id);

CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    region_id BIGINT NOT NULL REFERENCES regions(id),
    role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE wallets (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    balance BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
    locked BIGINT NOT NULL DEFAULT 0 CHECK (locked >= 0),
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE ledger_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES wallets(user_id),
    kind TEXT NOT NULL,
    delta_balance BIGINT NOT NULL,
    delta_locked BIGINT NOT NULL,
    reference TEXT,
    idempotency_key TEXT UNIQUE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ledger_entries_user_idx ON ledger_entries (user_id, id);

-- The journal is append-only: no row is ever updated or deleted.
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger_entries is append-only');
END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger_entries is append-only');
END;

INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (1, NULL, '서울', 1, '서울');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (2, 1, '강남구', 2, '서울 › 강남구');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (3, 2, '역삼동', 3, '서울 › 강남구 › 역삼동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (4, 2, '삼성동', 3, '서울 › 강남구 › 삼성동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (5, 2, '대치동', 3, '서울 › 강남구 › 대치동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (6, 2, '개포동', 3, '서울 › 강남구 › 개포동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (7, 1, '마포구', 2, '서울 › 마포구');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (8, 7, '서교동', 3, '서울 › 마포구 › 서교동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (9, 7, '합정동', 3, '서울 › 마포구 › 합정동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (10, 7, '망원동', 3, '서울 › 마포구 › 망원동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (11, 7, '연남동', 3, '서울 › 마포구 › 연남동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (12, 1, '송파구', 2, '서울 › 송파구');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (13, 12, '잠실동', 3, '서울 › 송파구 › 잠실동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (14, 12, '문정동', 3, '서울 › 송파구 › 문정동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (15, 12, '가락동', 3, '서울 › 송파구 › 가락동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (16, 1, '관악구', 2, '서울 › 관악구');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (17, 16, '신림동', 3, '서울 › 관악구 › 신림동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (18, 16, '봉천동', 3, '서울 › 관악구 › 봉천동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (19, NULL, '부산', 1, '부산');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (20, 19, '해운대구', 2, '부산 › 해운대구');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (21, 20, '우동', 3, '부산 › 해운대구 › 우동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (22, 20, '중동', 3, '부산 › 해운대구 › 중동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (23, 20, '좌동', 3, '부산 › 해운대구 › 좌동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (24, 19, '수영구', 2, '부산 › 수영구');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (25, 24, '광안동', 3, '부산 › 수영구 › 광안동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (26, 24, '남천동', 3, '부산 › 수영구 › 남천동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (27, NULL, '성남', 1, '성남');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (28, 27, '분당구', 2, '성남 › 분당구');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (29, 28, '정자동', 3, '성남 › 분당구 › 정자동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (30, 28, '서현동', 3, '성남 › 분당구 › 서현동');
INSERT INTO regions (id, parent_id, name, level, full_name) VALUES (31, 28, '판교동', 3, '성남 › 분당구 › 판교동');
INSERT INTO categories (id, slug, name) VALUES (1, 'electronics', 'Electronics');
INSERT INTO categories (id, slug, name) VALUES (2, 'furniture', 'Furniture & interior');
INSERT INTO categories (id, slug, name) VALUES (3, 'appliances', 'Home appliances');
INSERT INTO categories (id, slug, name) VALUES (4, 'books', 'Books');
INSERT INTO categories (id, slug, name) VALUES (5, 'clothing', 'Clothing');
INSERT INTO categories (id, slug, name) VALUES (6, 'sports', 'Sports & leisure');
INSERT INTO categories (id, slug, name) VALUES (7, 'kids', 'Kids & baby');
INSERT INTO categories (id, slug, name) VALUES (8, 'hobby', 'Hobbies & games');
INSERT INTO categories (id, slug, name) VALUES (9, 'plants', 'Plants');
INSERT INTO categories (id, slug, name) VALUES (10, 'other', 'Other');
