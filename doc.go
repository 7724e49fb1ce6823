// Package autocall is a client for the Vietnamese cloud call-center APIs that
// phone customers automatically: OMICall auto-call campaigns (recordings,
// text-to-speech, key-press menus) and TEL4VN OTP voice calls, TTS templates
// and call detail reports.
//
// # Which client for what
//
// A Client serves one provider; its credential says which:
//
//	provider  credential                        services              production base URL
//	OMICall   WithAPIKey                        AutoCall              https://public-v1.omicall.com
//	TEL4VN    WithSecretKey                     OTP, TTS, CDR         the API host your TEL4VN account names
//	either    WithAccessToken / WithTokenSource + WithProvider(...)
//
// A method of the other provider (OTP.Send on an OMICall client) fails at
// once with ErrWrongProvider and sends nothing. NewClient is the only way to
// make a Client; a zero Client fails every call with a *ValidationError.
//
//	omi, err := autocall.NewClient("https://public-v1.omicall.com", autocall.WithAPIKey(os.Getenv("OMICALL_API_KEY")))
//	if err != nil {
//		return err // a *ValidationError: a bad URL, no credential, two credentials
//	}
//	sess, err := omi.AutoCall.ExecuteByPhone(ctx, &autocall.PhoneCallRequest{
//		Name:     "Thông báo đơn hàng",
//		Voice:    autocall.VoiceBanMai,
//		Dialplan: autocall.NewDialplan().Text("Đơn hàng của bạn là").Text("CKHDKD00203"),
//		Phones:   []string{"0987654321", "+84 912 345 678"},
//	})
//	switch {
//	case err == nil:
//		log.Printf("session %s; not called: %v", sess.ID, sess.Rejected)
//	case errors.Is(err, autocall.ErrOutcomeUnknown):
//		// The request may have reached OMICall and the calls may be ringing.
//		// It was not resent. Do not resend blindly: find out first.
//	case errors.Is(err, autocall.ErrValidation):
//		// Refused before sending; errors.As(err, &ve) names the field.
//	case errors.Is(err, autocall.ErrBalanceNotEnough), errors.Is(err, autocall.ErrLimitWord):
//		// A definite refusal: nothing was placed. Top up, or wait a day.
//	case errors.Is(err, autocall.ErrRateLimited):
//		// Refused, retried up to RetryPolicy.MaxAttempts: slow down.
//	default:
//		// ErrUnauthorized, ErrRefused, ErrNetwork, ErrServer, …: nothing to
//		// learn beyond err; errors.As(err, &apiErr) gives the provider's code.
//		return err
//	}
//
// # What every request promises
//
// A Client is safe for concurrent use. A request that places calls is never
// sent twice unless the first attempt provably did not reach the provider
// (no byte written, a failed dial, or an HTTP 429); when its outcome cannot
// be known the error matches ErrOutcomeUnknown. Reads retry network errors,
// 429 and 5xx with backoff. Tokens are fetched once for all goroutines and
// refreshed in the background before they expire. No key or token appears
// in an error, a log line or APIError.Body.
//
// Every error matches a sentinel with errors.Is: ErrValidation (nothing
// sent), ErrNetwork (no answer), ErrRefused, ErrServer or
// ErrUnexpectedResponse (an answer), ErrOutcomeUnknown (a call may have
// been placed), and the precise ones (ErrUnauthorized, ErrNotFound,
// ErrRateLimited, ErrLimitService, ErrLimitWord, ErrBalanceNotEnough,
// ErrInvalidPhone, ErrInvalidCaller, ErrWrongProvider, …).
//
// After ErrOutcomeUnknown: OMICall has no report API, so only the OMICall
// portal can tell whether the session ran. TEL4VN call ids arrive in the
// webhook events posted to the request's CallbackURL (see WebhookHandler):
// an event for the callee means the call was placed.
//
// # The HTTP stack
//
// Every request the SDK sends is built and sent by one go-resty/resty v2
// client over the Client's own *http.Client (WithHTTPClient's, copied):
// resty sets the method, URL, headers and body and hands the request to
// net/http. That is all it does here; the rest of resty is off, each for a
// reason a telephony API gives:
//
//   - retries (SetRetryCount(0)): resty would resend a POST, and a create
//     is resent only by the SDK's own rule above;
//   - parsing (SetDoNotParseResponse): the SDK reads the body itself,
//     bounded by the request's answer limit, because resty would copy it
//     several times and would read a text/html 502 as an empty success;
//   - logging and debug output (a silent logger, never SetDebug): resty
//     would print the token;
//   - client-level auth (SetAuthToken): a header on the shared client
//     races with requests in flight, so the token is set per request.
//
// User-Agent and Accept are set once, when the Client is made, before any
// request can be in flight. Token requests use a second resty client that
// closes its connection after each answer (an answer echoes a credential,
// and bytes past its end must not reach net/http's log).
//
// # Phone numbers
//
// Callees may be written in any common form ("+84 98 765 43 21",
// "098.765.4321", "(028) 3821 2345"); NormalizePhone says which, and sends
// the national form. The policies, each on purpose: the whole numbering
// plan is accepted (every 10-digit 03/05/07/08/09 mobile, every 11-digit 02
// fixed line, not only the blocks assigned today); a retired 01x prefix is
// refused with the number it became; service numbers (1800, 1900, short
// codes) are not customers and are refused as callees, though a Caller may
// be one; only digits, spaces, dots, hyphens, parentheses and one leading
// "+" are accepted, never a letter in place of a digit; and a number
// missing its leading 0 is refused, not guessed, with the 0 form suggested
// in the error. A bad callee is left out and listed in Rejected; the others
// are called.
//
// # What the customer hears
//
// TEL4VN's engine reads some forms of number specially (Money, Number,
// Digits and Date write them). Template.Preview shows what the customer
// will hear, in Vietnamese words, reading the rendered text as the engine
// receives it; Speak reads one value:
//
//	an amount, dots between thousands:  10.410.000  mười triệu bốn trăm mười nghìn
//	a number:                           #15         mười lăm
//	a negative one, Number(-5):         âm #5       âm năm
//	digits alone, one by one:           0987654321  không chín tám bảy sáu năm bốn ba hai một
//	a date, dd/mm/yyyy:                 30/01/2021  ba mươi tháng một năm hai không hai mươi mốt
//	a date in April:                    15/04/2021  mười lăm tháng tư năm hai không hai mươi mốt
//
// The words follow one convention, the provider's example and its Northern
// voices': "linh" for empty tens (105 "một trăm linh năm", not the
// Southern "lẻ"); "bốn" for 4 after tens (24 "hai mươi bốn", not the
// colloquial "tư"), but April is "tháng tư"; "lăm" for 5 after tens (15
// "mười lăm") and "mốt" for 1 after "mươi" (21 "hai mươi mốt"); "nghìn",
// not "ngàn"; "tỷ", and above it the count of tỷ read with nghìn and triệu
// (2.500.000.000.000 "hai nghìn năm trăm tỷ"), up to 999.999.999.999.999. A
// year is read as the example reads 2021: the first two digits one by one,
// the last two as a number ("hai không hai mươi mốt"), or all four one by
// one when the tens digit is 0 (2005 "hai không không năm"). Anything else,
// and an impossible date (31/02/2021), is read as written.
//
// The sandbox in package autocalltest serves both APIs in-process, for tests
// and for trying the SDK with no account.
package autocall
