package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

// What the customer hears, through the built binary: an empty template
// value is refused before sending (a single call and a CSV row); content
// and keys typed in NFD reach the provider in NFC and are not refused; the
// preview reads the text as the engine receives it.
func TestWhatTheCustomerHears(t *testing.T) {
	srv := sandbox(t)
	env := tel4vnEnv(srv)
	content := "Chào bạn {{tên}}, khoản nợ {{due_amount}}.000 đồng"
	r := run(t, env, "tts", "import", "--campaign", "1", "--name", "nhac_no", "--content", content)
	require.Equal(t, 0, r.code, r.stderr)
	tts := []string{"tts", "run", "--campaign", "1", "--caller", "02873001234", "--template", "nhac_no"}

	// An empty value: refused, nothing sent.
	r = run(t, env, append(append([]string{}, tts...), "--content", content, "--param", "tên=Nguyễn Văn A", "--param", "due_amount=", "0912345678")...)
	assert.Equal(t, exitUsage, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "due_amount")
	csv := writeFile(t, "debts.csv", "key,phone,tên,due_amount\nd1,0912345678,Nguyễn Văn A,\nd2,0912345679,Trần Thị B,500\n")
	r = run(t, env, append(append([]string{}, tts...), "--content", content, "--csv", csv)...)
	assert.Equal(t, exitPartial, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "refused  line 2 d1")
	require.Len(t, srv.Calls(), 1, "only the row with every value is called")
	assert.Equal(t, "0912345679", srv.Calls()[0].Phone)

	// Content and key typed in NFD: the same template, the same key.
	nfd := norm.NFD.String(content)
	require.NotEqual(t, content, nfd)
	r = run(t, env, append(append([]string{}, tts...), "--content", nfd, "--param", norm.NFD.String("tên")+"=Lê Văn C",
		"--param", "due_amount=7", "0912345670")...)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Len(t, srv.Calls(), 2)
	assert.NotContains(t, r.stderr, "has no {{")

	// The preview reads the rendered text: 500 before ".000 đồng" is an amount.
	r = run(t, nil, "tts", "preview", "--content", content, "--param", "tên=Nguyễn Văn A", "--param", "due_amount=500")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "năm trăm nghìn đồng")
	assert.False(t, strings.Contains(r.stdout, "{{"), r.stdout)
}
