DROP INDEX notifications_chat_unread_once;
ALTER TABLE notifications DROP COLUMN chat_id;
DROP TABLE user_blocks;
DROP TABLE chat_messages;
DROP TABLE chats;
