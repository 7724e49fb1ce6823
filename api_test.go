package autocall

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The smaller API fixes a new user tripped over.

func TestUserAgentAppendsTheApplication(t *testing.T) {
	var ua string
	f := newFakeAPI(t)
	f.handle("GET "+readPath, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		ua = r.Header.Get("User-Agent")
		writeJSON(w, 200, okRead)
	})
	c := newTestClient(t, f.URL, WithAccessToken(testToken), WithUserAgent("shop/1.0"))
	_, err := doRead(c)
	require.NoError(t, err)
	assert.Equal(t, "autocall-go/"+Version+" shop/1.0", ua)

	c = newTestClient(t, f.URL, WithAccessToken(testToken))
	_, err = doRead(c)
	require.NoError(t, err)
	assert.Equal(t, "autocall-go/"+Version, ua)

	_, err = NewClient(f.URL, WithAccessToken(testToken), WithProvider(TEL4VN), WithUserAgent("shop\r\nX: 1"))
	assert.ErrorIs(t, err, ErrValidation)
}

func TestDefaultRetryPolicyCannotBeChangedForEveryone(t *testing.T) {
	p := DefaultRetryPolicy()
	p.MaxAttempts = 100
	assert.Equal(t, 3, DefaultRetryPolicy().MaxAttempts)
	c := newTestClient(t, "http://127.0.0.1:1", WithAccessToken(testToken), WithRetryPolicy(RetryPolicy{}))
	assert.Equal(t, DefaultRetryPolicy(), c.retry)
}

func TestWebhookHandlerRefusesNilFunc(t *testing.T) {
	assert.PanicsWithValue(t, "autocall: WebhookHandler needs a func to receive the events", func() {
		WebhookHandler(hookKey, nil)
	})
}

func TestOutcomeUnknownSaysMethodAndPathOnce(t *testing.T) {
	f := newFakeAPI(t)
	f.handle("POST "+createPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 500, `{"status_code":500,"message":"boom"}`)
	})
	c := newTestClient(t, f.URL, WithAccessToken(testToken), WithProvider(OMICall))
	_, err := doCreate(c)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Equal(t, 1, strings.Count(err.Error(), createPath), err.Error())
	assert.Equal(t, "autocall: POST "+createPath+": outcome unknown, the call may have been placed: HTTP 500: boom", err.Error())
	var apiErr *APIError
	require.True(t, errors.As(err, &apiErr))
	assert.Equal(t, 500, apiErr.HTTPStatus)
	assert.Equal(t, 500, apiErr.ProviderStatus)
}

func TestImportTemplateNil(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1", WithSecretKey(testSecretKey))
	err := c.TTS.ImportTemplate(context.Background(), "1", nil)
	assert.ErrorIs(t, err, ErrValidation)
}
