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
// The sandbox in package autocalltest serves both APIs in-process, for tests
// and for trying the SDK with no account.
package autocall
