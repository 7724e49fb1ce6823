package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

// journal show --json counts a job in flight under the name its row
// gives it, so that counts and rows agree.
func TestJournalShowCountsAgreeWithRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "held.journal")
	j, err := batch.OpenFile(path)
	require.NoError(t, err)
	defer j.Close()
	ctx := context.Background()
	for _, k := range []string{"a", "b"} {
		ok, _, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: k, Kind: "otp", Campaign: "1", Phones: []string{"0912000003"}}, Resend: batch.Resend{}})
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.NoError(t, j.Settle(ctx, batch.Record{Key: "b", State: batch.Placed, CallIDs: []string{"1_1_1_1_u_84912000003"}}))

	show := run(t, nil, "--json", "journal", "show", path)
	require.Equal(t, 0, show.code, show.stderr)
	var js struct {
		InUse  bool           `json:"in_use"`
		Counts map[string]int `json:"counts"`
		Rows   []struct{ State string }
	}
	require.NoError(t, json.Unmarshal([]byte(show.stdout), &js))
	require.True(t, js.InUse)
	fromRows := map[string]int{}
	for _, r := range js.Rows {
		fromRows[r.State]++
	}
	assert.Equal(t, map[string]int{"in_flight": 1, "placed": 1}, fromRows)
	assert.Equal(t, fromRows, js.Counts)
}

// A template import whose outcome is unknown says the template, not a
// call, may have been made.
func TestTemplateImportUnknownSaysTemplate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/users/generate_access_token" {
			fmt.Fprint(w, `{"data":{"access_token":"tok-1","expire_at":3600}}`)
			return
		}
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, `{"code":502,"status":false}`)
	}))
	defer srv.Close()
	r := run(t, map[string]string{"AUTOCALL_BASE_URL": srv.URL, "AUTOCALL_SECRET_KEY": autocalltest.SecretKey},
		"tts", "import", "--campaign", "1", "--name", "nhac_no", "--content", "Chào {{tên}}, hãy thanh toán")
	assert.Equal(t, 5, r.code, r.stderr)
	assert.Contains(t, r.stderr, "the template may have been imported")
	assert.Contains(t, r.stderr, "The template may have been imported.")
	assert.NotContains(t, r.stderr, "call may have been placed")
	assert.NotContains(t, r.stderr, autocalltest.SecretKey)
}

// Issue #25.3: journal show names the run that left a claim unknown.
func TestJournalShowNamesTheRunOfADeadClaim(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dead.journal")
	j, err := batch.OpenFile(path)
	require.NoError(t, err)
	ok, _, err := j.Claim(context.Background(), batch.ClaimRequest{Record: batch.Record{Key: "a", Kind: "otp", Phones: []string{"0912000003"}, Run: "20261201T080000Z-dead"}})
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, j.Close()) // its process ended with the claim unsettled

	show := run(t, nil, "journal", "show", path)
	require.Equal(t, 0, show.code, show.stderr)
	assert.Contains(t, show.stdout, "by run 20261201T080000Z-dead")
	assert.Contains(t, show.stdout, "unknown")
}
