
/* ------------------------------------------------------------------
 * Sender normalisation: inbound requests are matched to clients by a
 * comparable key of their sender (sender.c; doc/reference.md, "Sender
 * normalisation")
 * ------------------------------------------------------------------ */

/* The country of phone numbers written in national form. */
ALTER TABLE salesboard.company
    ADD COLUMN default_region char(2) CHECK (default_region ~ '^[A-Z]{2}$');
COMMENT ON COLUMN salesboard.company.default_region IS
    'ISO 3166-1 alpha-2 code of the country whose national phone numbers ("8 495 ...") clients and senders write, one libphonenumber knows a calling code for (SB107 otherwise); NULL: only numbers in international +... form are recognised';

CREATE FUNCTION salesboard.sender_key(channel text, sender text) RETURNS text
AS 'MODULE_PATHNAME', 'sb_sender_key_sql'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION salesboard.sender_key(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION salesboard.sender_key(text, text) TO salesboard_user;
COMMENT ON FUNCTION salesboard.sender_key(text, text) IS
    'The comparable key of an inbound sender on a channel (email, phone, telegram, viber, vk, web_form): a lowercased addr-spec, an E.164 phone number (national numbers by company.default_region), a lowercased handle without @; SB025 for another channel';

/* client.phone_key: the client's phone as sender_key('phone', ...) gives it,
 * kept by a trigger; written directly, it is replaced. */
ALTER TABLE salesboard.client ADD COLUMN phone_key text;
COMMENT ON COLUMN salesboard.client.phone_key IS
    'sender_key(''phone'', phone): the phone in E.164 form (+74951234567), or as given when it is no recognisable number; NULL without a phone; kept by trigger client_phone_key (inbound calls are matched on it)';

CREATE FUNCTION salesboard.client_phone_key_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sb_client_phone_key_trigger' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION salesboard.client_phone_key_trigger() FROM PUBLIC;
COMMENT ON FUNCTION salesboard.client_phone_key_trigger() IS
    'Trigger: client.phone_key is sender_key(''phone'', phone)';
CREATE TRIGGER client_phone_key
    BEFORE INSERT OR UPDATE OF phone, phone_key ON salesboard.client
    FOR EACH ROW EXECUTE FUNCTION salesboard.client_phone_key_trigger();
COMMENT ON TRIGGER client_phone_key ON salesboard.client IS
    'phone_key is sender_key(''phone'', phone); a value written to it directly is replaced';

/* A new default region reads national numbers differently: every client's
 * phone_key is computed again. */
CREATE FUNCTION salesboard.company_region_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sb_company_region_trigger' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION salesboard.company_region_trigger() FROM PUBLIC;
COMMENT ON FUNCTION salesboard.company_region_trigger() IS
    'Trigger: when company.default_region may have changed, every client.phone_key is computed again';
CREATE TRIGGER company_region
    AFTER INSERT OR UPDATE OF default_region OR DELETE OR TRUNCATE ON salesboard.company
    FOR EACH STATEMENT EXECUTE FUNCTION salesboard.company_region_trigger();
COMMENT ON TRIGGER company_region ON salesboard.company IS
    'A changed default_region recomputes every client.phone_key';

/* the clients of an updated database */
UPDATE salesboard.client c SET phone_key = salesboard.sender_key('phone', c.phone)
 WHERE c.phone IS NOT NULL;

CREATE INDEX client_phone_key_idx ON salesboard.client (phone_key) WHERE phone_key IS NOT NULL;
COMMENT ON INDEX salesboard.client_phone_key_idx IS 'Clients by phone key (inbound matching by sender_key)';
