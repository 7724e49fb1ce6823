package autocalltest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
)

type provider int

const (
	omicall provider = iota + 1
	tel4vn
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// omicallOK writes OMICall's success envelope.
func omicallOK(w http.ResponseWriter, payload any) {
	writeJSON(w, http.StatusOK, map[string]any{
		"status_code": 9999, "instance_id": "sandbox", "instance_version": "autocalltest",
		"key_enabled": false, "payload": payload,
	})
}

// omicallCode writes a refusal the way OMICall's API gọi tự động page shows its codes: the
// code in message, with HTTP 200.
func omicallCode(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusOK, map[string]any{"status_code": -9999, "message": code, "payload": nil})
}

// omicallInvalid writes a refusal with the code in payload.error, as
// OMICall does for bad input.
func omicallInvalid(w http.ResponseWriter, code, message string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"status_code": -9999,
		"payload": map[string]any{"status": "fail", "error": code, "message": message}})
}

// tel4vnOK writes TEL4VN's success envelope.
func tel4vnOK(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, map[string]any{"message": "OK", "code": 200, "status": true, "data": data})
}

// tel4vnError writes TEL4VN's failure envelope, "messsage" and all.
func tel4vnError(w http.ResponseWriter, status int, errText string) {
	writeJSON(w, status, map[string]any{"messsage": http.StatusText(status), "code": status, "status": false,
		"data": map[string]any{"error": errText}})
}

// unauthorizedText is OMICall's plain-text 401.
func unauthorizedText(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte("Unauthorized"))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func uuid() string {
	h := randomHex(16)
	return strings.Join([]string{h[:8], h[8:12], "4" + h[13:16], "a" + h[17:20], h[20:32]}, "-")
}
