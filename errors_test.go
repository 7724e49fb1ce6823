package autocall

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every code API-NOTES.md lists, in every place each envelope carries a
// code, maps to its sentinel.
func TestEveryCodeInEveryEnvelope(t *testing.T) {
	envelopes := map[string]struct {
		path, body string
	}{
		"OMICall message":       {byPhonePath, `{"status_code":-9999,"message":"%s","payload":null}`},
		"OMICall payload.error": {byPhonePath, `{"status_code":-9999,"payload":{"status":"fail","error":"%s","message":"x"}}`},
		"TEL4VN data.error":     {otpPath, `{"messsage":"Bad Request","code":400,"status":false,"data":{"error":"%s"}}`},
	}
	allCodes := []ErrorCode{CodeLimitService, CodeLimitWord, CodeLimitWordSession, CodeBalanceNotEnough, CodeAPIKeyRequired,
		CodeAPIKeyInvalid, CodeAuthInvalid, CodeTenantDisabled, CodeTokenExpired, CodeDataRequired, CodeRequestBodyRequired,
		CodeInvalidPhoneNumber, CodeResourceNotFound, CodePermissionDenied, CodeRateLimitExceeded, CodeNumberCallOutInvalid,
		CodeExtensionInvalid, CodeUserBusy, CodeDoNotCall, CodeTenantInvalid, CodeIndividualPackageExpired,
		CodeServicePackageCustomerLimit, CodeUserNotRegistered, CodeSourceContactNotExists}
	sentinels := []error{ErrInvalidPhone, ErrUnauthorized, ErrNotFound, ErrRateLimited, ErrLimitService, ErrLimitWord,
		ErrLimitWordSession, ErrBalanceNotEnough, ErrOutcomeUnknown, ErrUnexpectedResponse, ErrValidation, ErrInvalidCaller}

	for name, env := range envelopes {
		for _, code := range allCodes {
			c, mt := mockClient(t)
			if env.path == byPhonePath {
				c.provider = OMICall
			}
			c.retry.MaxAttempts = 1 // a 429 code is retried; one answer is enough here
			mockJSON(mt, "POST", "https://api.example.test"+env.path, 200, []byte(fmt.Sprintf(env.body, code)))
			var err error
			if env.path == byPhonePath {
				_, err = c.AutoCall.ExecuteByPhone(bg(), &PhoneCallRequest{Dialplan: NewDialplan().Text("x"), Phones: []string{"0987654321"}})
			} else {
				_, err = c.OTP.Send(bg(), "1", &OTPRequest{Caller: "0123456789", Callees: []string{"0987654321"}, TemplateName: "t", Code: "1"})
			}
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr, "%s %s", name, code)
			assert.Equal(t, code, apiErr.Code, "%s", name)
			want, also := codeSentinels[code], alsoSentinels[code]
			for _, s := range sentinels { // a static token: no refetch on token_expired
				assert.Equal(t, s == want || s == also, errors.Is(err, s), "%s: %s vs %v", name, code, s)
			}
			assert.ErrorIs(t, err, ErrRefused, "%s %s: a definite refusal", name, code)
		}
	}
}

func TestHTTPStatusSentinels(t *testing.T) {
	for status, want := range map[int]error{401: ErrUnauthorized, 403: ErrUnauthorized, 404: ErrNotFound, 429: ErrRateLimited} {
		e := &APIError{HTTPStatus: status}
		assert.ErrorIs(t, e, want, "%d", status)
		e = &APIError{HTTPStatus: 200, ProviderStatus: status}
		assert.ErrorIs(t, e, want, "envelope %d", status)
	}
	assert.NotErrorIs(t, &APIError{HTTPStatus: 400}, ErrUnauthorized)
	assert.NotErrorIs(t, &APIError{HTTPStatus: 500}, ErrOutcomeUnknown, "only the pipeline knows whether a 5xx is unknown")
}

func TestErrorStrings(t *testing.T) {
	e := &APIError{HTTPStatus: 200, ProviderStatus: -9999, Code: CodeLimitWord, Message: "Vượt quá giới hạn", Method: "POST", Path: byPhonePath}
	assert.Equal(t, "autocall: POST /api/auto_call/execute_by_phone: HTTP 200, status -9999: limit_word: Vượt quá giới hạn", e.Error())
	v := &ValidationError{Field: "Callees[3]", Value: "12345", Reason: "not a Vietnamese number"}
	assert.Equal(t, `autocall: invalid Callees[3] "12345": not a Vietnamese number`, v.Error())
	o := &OutcomeUnknownError{Method: "POST", Path: otpPath, Err: e}
	assert.ErrorIs(t, o, ErrOutcomeUnknown)
	assert.ErrorIs(t, o, ErrLimitWord, "the cause is reachable")
}

// number_call_out_invalid is the calling number's fault, not the customer's.
func TestCallerCodeIsNotAPhoneError(t *testing.T) {
	e := &APIError{HTTPStatus: 400, Code: CodeNumberCallOutInvalid}
	assert.ErrorIs(t, e, ErrInvalidCaller)
	assert.NotErrorIs(t, e, ErrInvalidPhone)
	// limit_word_session is a limit_word too; limit_word is not a session limit.
	assert.ErrorIs(t, &APIError{HTTPStatus: 400, Code: CodeLimitWordSession}, ErrLimitWord)
	assert.NotErrorIs(t, &APIError{HTTPStatus: 400, Code: CodeLimitWord}, ErrLimitWordSession)
}
