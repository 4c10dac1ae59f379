/*
 * sender.c: senders of inbound requests as comparable keys (services
 * layer): salesboard.sender_key(), client.phone_key and its upkeep.
 *
 * The key of a sender, by channel (doc/reference.md, "Sender
 * normalisation"); "trimmed" means without leading and trailing white
 * space (space, tab, line breaks):
 *   email     the addr-spec of a display-name form, the text inside the
 *             last <...> ("Anna B" <Anna.B@Fabrikam.Example> gives
 *             anna.b@fabrikam.example), trimmed and lowercased; when that
 *             leaves no '@', the whole text, trimmed and lowercased.
 *   phone,    the E.164 form (+74951234567) by libphonenumber (phone.h),
 *   viber     numbers in national form read as numbers of
 *             company.default_region; when the text is no possible phone
 *             number (or the region is not set and the number is not in
 *             +... form), the text trimmed, as given. Viber ids are phone
 *             numbers.
 *   telegram, trimmed, lowercased, one leading '@' removed (@Handle gives
 *   vk        handle).
 *   web_form  a text with '@' by the e-mail rule, any other by the phone
 *             rule.
 * Any other channel is SB025. Lowercasing is lower()'s, by the database's
 * default collation, as the index on lower(client.email) has it.
 *
 * client.phone_key is sender_key('phone', phone), kept by a BEFORE row
 * trigger on client and recomputed for every client when company's
 * default_region changes (an AFTER statement trigger on company).
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "commands/trigger.h"
#include "common/string.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/rel.h"

#include "calls.h"
#include "config.h"
#include "errcodes.h"
#include "phone.h"
#include "rows.h"
#include "sender.h"
#include "spi.h"
#include "texts.h"

PG_FUNCTION_INFO_V1(sb_sender_key_sql);
PG_FUNCTION_INFO_V1(sb_client_phone_key_trigger);
PG_FUNCTION_INFO_V1(sb_company_region_trigger);

typedef enum SenderRule
{
	RULE_EMAIL,
	RULE_PHONE,
	RULE_HANDLE,
	RULE_WEB_FORM
} SenderRule;

static const struct
{
	const char *channel;
	SenderRule	rule;
}			channels[] = {
	{"email", RULE_EMAIL},
	{"phone", RULE_PHONE},
	{"telegram", RULE_HANDLE},
	{"viber", RULE_PHONE},
	{"vk", RULE_HANDLE},
	{"web_form", RULE_WEB_FORM},
};

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* s[0..len) without leading and trailing white space, palloc'd */
static char *
trimmed(const char *s, size_t len)
{
	while (len > 0 && is_space(*s))
		s++, len--;
	while (len > 0 && is_space(s[len - 1]))
		len--;
	return pnstrdup(s, len);
}

static char *
lowered(const char *s)
{
	return str_tolower(s, strlen(s), DEFAULT_COLLATION_OID);
}

static char *
email_key(const char *s)
{
	const char *open = strrchr(s, '<');
	const char *close = open != NULL ? strchr(open, '>') : NULL;

	if (close != NULL)
	{
		char	   *addr = trimmed(open + 1, close - open - 1);

		if (strchr(addr, '@') != NULL)
			return lowered(addr);
	}
	return lowered(trimmed(s, strlen(s)));
}

static bool
has_ascii_letter(const char *s)
{
	for (; *s; s++)
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
			return true;
	return false;
}

static char *
phone_key(const char *s)
{
	char	   *text = trimmed(s, strlen(s));
	char		e164[32];

	/*
	 * libphonenumber reads UTF-8 (in another encoding: ASCII only) and
	 * refuses texts over 250 bytes itself: longer ones are not copied to it.
	 * A text with ASCII letters is no number: the library would read them as
	 * a vanity number's keypad digits ("... Ivan" -> "4826").
	 */
	if (strlen(text) <= 250 && !has_ascii_letter(text) &&
		(GetDatabaseEncoding() == PG_UTF8 || pg_is_ascii(text)) &&
		sb_phone_e164(text, sb_default_region(), e164, sizeof(e164)))
		return pstrdup(e164);
	return text;
}

static char *
handle_key(const char *s)
{
	char	   *text = trimmed(s, strlen(s));

	return lowered(text[0] == '@' ? text + 1 : text);
}

char *
sb_sender_key(const char *channel, const char *sender)
{
	size_t		i;

	for (i = 0; i < lengthof(channels); i++)
	{
		if (strcmp(channel, channels[i].channel) != 0)
			continue;
		switch (channels[i].rule)
		{
			case RULE_EMAIL:
				return email_key(sender);
			case RULE_PHONE:
				return phone_key(sender);
			case RULE_HANDLE:
				return handle_key(sender);
			case RULE_WEB_FORM:
				return strchr(sender, '@') != NULL ? email_key(sender) : phone_key(sender);
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_SB_BAD_VALUE),
			 errmsg("\"%s\" is not a channel of inbound requests", sb_quote_short(channel)),
			 errhint("Pass one of email, phone, telegram, viber, vk, web_form.")));
	return NULL;				/* not reached */
}

/* salesboard.sender_key(channel text, sender text) -> text, STRICT */
Datum
sb_sender_key_sql(PG_FUNCTION_ARGS)
{
	char	   *channel = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *sender = text_to_cstring(PG_GETARG_TEXT_PP(1));

	PG_RETURN_TEXT_P(cstring_to_text(sb_sender_key(channel, sender)));
}

/*
 * BEFORE INSERT OR UPDATE OF phone, phone_key ON client FOR EACH ROW:
 * phone_key is sender_key('phone', phone), NULL without a phone; a value
 * written to phone_key itself is replaced.
 */
Datum
sb_client_phone_key_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_client_phone_key_trigger",
									  SB_TRIG_BEFORE | SB_TRIG_ROW | SB_TRIG_NO_DELETE);
	HeapTuple	row;
	TupleDesc	desc;
	int			phone_att,
				key_att;
	bool		phone_null,
				key_null;
	Datum		phone,
				old_key;
	char	   *key = NULL;
	SbRowEdit	e = {0};

	if (sb_restoring())
		return sb_trigger_pass(td);
	row = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	desc = RelationGetDescr(td->tg_relation);
	phone_att = SPI_fnumber(desc, "phone");
	key_att = SPI_fnumber(desc, "phone_key");
	if (phone_att <= 0 || key_att <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function client_phone_key_trigger must be fired on a table with columns phone and phone_key"),
				 errhint("It is installed by the salesboard extension; do not attach it elsewhere.")));
	phone = heap_getattr(row, phone_att, desc, &phone_null);
	old_key = heap_getattr(row, key_att, desc, &key_null);
	if (!phone_null)
		key = sb_sender_key("phone", TextDatumGetCString(phone));
	if (key == NULL ? key_null : (!key_null && strcmp(key, TextDatumGetCString(old_key)) == 0))
		return PointerGetDatum(row);
	sb_edit(&e, key_att, key != NULL ? CStringGetTextDatum(key) : (Datum) 0, key == NULL);
	return PointerGetDatum(sb_edit_apply(&e, row, desc));
}

/*
 * AFTER INSERT OR UPDATE OF default_region OR DELETE OR TRUNCATE ON
 * company FOR EACH STATEMENT: a region libphonenumber does not know is
 * SB107 (the CHECK only asks for two capital letters); else national
 * numbers read differently now, so every client's phone_key is computed
 * again (the client trigger does it for the rows whose key changes). The
 * company cache is dropped first: the relcache invalidation of
 * company_changed reaches this backend only at its next command boundary.
 */
Datum
sb_company_region_trigger(PG_FUNCTION_ARGS)
{
	char	   *region;

	(void) sb_trigger_call(fcinfo, "sb_company_region_trigger", SB_TRIG_AFTER | SB_TRIG_STATEMENT);
	if (sb_restoring())
		return PointerGetDatum(NULL);
	sb_company_cache_reset();
	SPI_connect();
	/* the statement's own change: a new snapshot (not read-only) sees it */
	sb_exec_once("SELECT c.default_region::text FROM salesboard.company c", false);
	region = SPI_processed == 1 ? sb_spi_text(0, 1, CurrentMemoryContext) : NULL;
	if (region != NULL && !sb_phone_region_known(region))
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_REGION),
				 errmsg("company.default_region \"%s\" is not a region with phone numbers", region),
				 errdetail("libphonenumber knows no country calling code for it."),
				 errhint("Use the ISO 3166-1 alpha-2 code of a country, such as 'RU', 'DE' or 'US', or NULL to read only numbers written with +.")));
	sb_exec_once("UPDATE salesboard.client c SET phone_key = salesboard.sender_key('phone', c.phone) "
				 "WHERE c.phone_key IS DISTINCT FROM salesboard.sender_key('phone', c.phone)", false);
	SPI_finish();
	return PointerGetDatum(NULL);
}
