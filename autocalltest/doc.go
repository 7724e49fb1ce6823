// Package autocalltest is an in-process sandbox of both providers' APIs,
// for tests and for the quickstart: no account, no network, nobody phoned.
//
//	srv := autocalltest.NewServer()
//	defer srv.Close()
//	c, _ := autocall.NewClient(srv.URL, autocall.WithSecretKey(autocalltest.SecretKey)) // TEL4VN
//	o, _ := autocall.NewClient(srv.URL, autocall.WithAPIKey(autocalltest.APIKey))       // OMICall
//
// It answers in each provider's own envelope, as the documents describe:
//
//   - Tokens: POST /api/v1/users/generate_access_token with SecretKey,
//     GET /api/auth?apiKey= with APIKey. A token works only on its own
//     provider's paths and in that provider's Authorization form: "Bearer
//     <token>" on /api/auto_call/…, the raw token on /api/v2/…. Tokens live
//     24 hours (OMICall) and 180 days (TEL4VN) of sandbox time, or what
//     WithTokenLifetime says; an expired one is refused with token_expired.
//
//   - OMICall auto-call: more than 300 characters of text in one session is
//     limit_word_session; more than 3,000 in one day is limit_word; a plan
//     without auto-call (SetAutoCallEnabled(false)) is limit_service.
//
//   - Every call spends CallPrice from the balance when one is set
//     (SetBalance); a request it cannot pay for is balance_is_not_enough
//     and places nothing.
//
//   - TEL4VN OTP and TTS: callees that are not Vietnamese numbers in
//     national form land in results.fail as "Wrong Format", the others in
//     results.success with call ids shaped like the page's. A TTS run
//     needs its template imported first and its placeholders filled; if
//     not, every callee lands in results.fail ("Template Not Found",
//     "Missing TTS Key") and nobody is called.
//
//   - Calls: each accepted TEL4VN call has a CDR (GET /api/v2/report/{id}).
//     Time stands still until the test calls Advance. A call rings for
//     RingTime with no status, then ends; an answered call talks for
//     TalkTime first. The callee's number chooses the outcome, as the
//     table below says.
//
//   - Callbacks: when a call ends, its CDR is POSTed as JSON to the
//     request's callback_url, with callback_apikey in the X-API-Key header.
//
//   - Faults: FailNext scripts the next N answers on a path: any status and
//     body, an HTML error page, a connection reset, a delay, and optionally
//     after handling the request as usual (the call placed, the answer lost).
//
//   - Requests records what the sandbox received, secrets redacted.
//
// The callee's number chooses each call's outcome, by its last digits
// (K is any digit):
//
//	callee ends in  CDR status     keypress
//	…0001           BUSY
//	…0002           NOANWSER
//	…0003           CONGESTION
//	…0004           ERROR
//	…0005           CANCEL
//	…0006           FAIL
//	…0007           INVALIDNUMBER
//	…009K           ANSWERED       K (key K pressed)
//	anything else   ANSWERED       127 (hang-up)
//
// Any campaign id is accepted.
//
// # The sandbox's own assumptions
//
// Where the providers' pages (OMICall's "API gọi tự động", TEL4VN's
// "Autocall API Reference") are silent or contradict themselves, the
// sandbox decides, and says so here, so that a test passing against it is
// not taken for proof of the real API's behaviour:
//
//   - Template import answers data {"campaign_id", "name"}. The page shows
//     the TTS run's answer (results.success/fail) under import, a copy of
//     the run's example; the SDK reads only the envelope of this answer.
//   - An unknown template or a missing placeholder fails each callee
//     ("Template Not Found", "Missing TTS Key") inside a 200, as VIHAT's own
//     tooling reports it, rather than failing the request.
//   - balance_is_not_enough is an OMICall code; TEL4VN's page names no
//     balance error. The sandbox answers it on both APIs (HTTP 400 on
//     TEL4VN) so that the path can be tested; the real TEL4VN may differ.
//   - execute_by_extension needs "variables" (the page marks it required,
//     even with no Text step); execute_by_phone does not.
//   - Text is counted in characters after NFC, so Vietnamese typed in NFD
//     counts as it reads. Whether the providers normalise is not documented;
//     the SDK sends NFC either way.
//   - Callbacks carry callback_apikey in the X-API-Key header. The header
//     the providers use is not documented; autocall.WebhookHandler looks in
//     four places.
package autocalltest
