package autocalltest

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

type issuedToken struct {
	provider provider
	expiry   time.Time
}

func (s *Server) issueLocked(p provider) (string, time.Duration) {
	tok := randomHex(16)
	life := s.tokenLifetime[p]
	s.tokens[tok] = issuedToken{provider: p, expiry: s.now.Add(life)}
	return tok, life
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// POST /api/v1/users/generate_access_token
func (s *Server) tel4vnToken(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		SecretKey string `json:"secret_key"`
	}
	if json.Unmarshal(body, &in) != nil || in.SecretKey == "" {
		tel4vnError(w, http.StatusBadRequest, "secret_key is required")
		return
	}
	if !equal(in.SecretKey, SecretKey) {
		tel4vnError(w, http.StatusUnauthorized, "invalid secret_key")
		return
	}
	s.mu.Lock()
	tok, life := s.issueLocked(tel4vn)
	s.mu.Unlock()
	// As in TEL4VN's Autocall API Reference, including the echoed secret key in "id".
	tel4vnOK(w, map[string]any{"id": in.SecretKey, "user_id": "f461", "access_token": tok, "refresh_token": "",
		"expire_at": int64(life / time.Second), "token_type": "Bearer", "scope": "member"})
}

// GET /api/auth?apiKey=
func (s *Server) omicallToken(w http.ResponseWriter, r *http.Request, _ []byte) {
	key := r.URL.Query().Get("apiKey")
	switch {
	case key == "":
		omicallCode(w, "api_key_is_required")
		return
	case !equal(key, APIKey):
		omicallCode(w, "api_key_invalid")
		return
	}
	s.mu.Lock()
	tok, _ := s.issueLocked(omicall)
	s.mu.Unlock()
	omicallOK(w, map[string]any{"access_token": tok, "token_type": "Bearer", "access_type": "normal"})
}

// authorize enforces each provider's Authorization form and its own tokens.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, p provider) bool {
	h := r.Header.Get("Authorization")
	var tok string
	if p == omicall {
		if !strings.HasPrefix(h, "Bearer ") {
			unauthorizedText(w)
			return false
		}
		tok = strings.TrimPrefix(h, "Bearer ")
	} else {
		if h == "" || strings.HasPrefix(h, "Bearer ") {
			tel4vnError(w, http.StatusUnauthorized, "auth_invalid")
			return false
		}
		tok = h
	}
	s.mu.Lock()
	it, ok := s.tokens[tok]
	now := s.now
	s.mu.Unlock()
	switch {
	case !ok || it.provider != p:
		if p == omicall {
			unauthorizedText(w)
		} else {
			tel4vnError(w, http.StatusUnauthorized, "auth_invalid")
		}
		return false
	case !now.Before(it.expiry):
		if p == omicall {
			omicallCode(w, "token_expired")
		} else {
			tel4vnError(w, http.StatusUnauthorized, "token_expired")
		}
		return false
	}
	return true
}
