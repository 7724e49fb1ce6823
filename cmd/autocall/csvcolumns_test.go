package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"

	"github.com/autocallvn/autocall-go/autocalltest"
)

// ttsParamsSent are the placeholder values of each TTS request that reached the sandbox.
func ttsParamsSent(t *testing.T, srv *autocalltest.Server) []map[string]string {
	var out []map[string]string
	for _, q := range srv.Requests() {
		if !strings.HasSuffix(q.Path, "/voice") {
			continue
		}
		var body struct {
			Params map[string]string `json:"params"`
		}
		require.NoError(t, json.Unmarshal(q.Body, &body))
		delete(body.Params, "template_name") // the request's, not a placeholder
		out = append(out, body.Params)
	}
	return out
}

func ttsCSVRun(csv string, extra ...string) []string {
	return append([]string{"tts", "run", "--campaign", "1", "--caller", "02873001234", "--template", "nhac_no", "--csv", csv, "--rate", "0"}, extra...)
}

// A placeholder column keeps its case ({{customerName}} is filled by a
// customerName column), the fixed columns are matched in any case, and a
// header typed in NFD names the NFC placeholder.
func TestPlaceholderColumnsKeepTheirCase(t *testing.T) {
	srv := sandbox(t)
	env := tel4vnEnv(srv)
	content := "Chào bạn {{customerName}}, khoản nợ {{số_tiền}} đồng"
	r := run(t, env, "tts", "import", "--campaign", "1", "--name", "nhac_no", "--content", content)
	require.Equal(t, 0, r.code, r.stderr)
	csv := writeFile(t, "debts.csv", "Key,PHONE,customerName,"+norm.NFD.String("số_tiền")+"\n"+
		"c-1,0912300101,Nguyễn Văn A,500000\nc-2,0912300102,Trần Thị Bích,750000\n")
	r = run(t, env, ttsCSVRun(csv, "--content", content)...)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "2 placed, 0 refused")
	assert.ElementsMatch(t, []map[string]string{
		{"customerName": "Nguyễn Văn A", "số_tiền": "500000"},
		{"customerName": "Trần Thị Bích", "số_tiền": "750000"},
	}, ttsParamsSent(t, srv))
}

// A column of the user's own (a note) is no placeholder: with --content it
// is ignored, and said once; without it, --ignore-column names it.
func TestExtraTTSColumnsAreIgnored(t *testing.T) {
	srv := sandbox(t)
	env := tel4vnEnv(srv)
	content := "Chào bạn {{customer_name}}, vui lòng thanh toán {{due_amount}}"
	r := run(t, env, "tts", "import", "--campaign", "1", "--name", "nhac_no", "--content", content)
	require.Equal(t, 0, r.code, r.stderr)
	csv := writeFile(t, "debts.csv", "key,phone,customer_name,due_amount,note\n"+
		"n-1,0912300111,Nguyễn Văn A,10.410.000,gọi sau 9 giờ\nn-2,0912300112,Lê Văn Bình,500.000,khách VIP\n")
	r = run(t, env, ttsCSVRun(csv, "--content", content)...)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Equal(t, 1, strings.Count(r.stderr, "note: ignoring the columns that are no placeholder of --content: note"), r.stderr)
	assert.Len(t, srv.Calls(), 2)
	for _, p := range ttsParamsSent(t, srv) {
		assert.NotContains(t, p, "note")
	}

	csv2 := writeFile(t, "debts2.csv", "key,phone,customer_name,due_amount,note\n"+
		"m-1,0912300113,Phạm Thị Cúc,1.000.000,gọi lại\n")
	r = run(t, env, ttsCSVRun(csv2, "--ignore-column", "note")...)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	sent := ttsParamsSent(t, srv)
	require.Len(t, sent, 3)
	assert.Equal(t, map[string]string{"customer_name": "Phạm Thị Cúc", "due_amount": "1.000.000"}, sent[2])

	help := run(t, nil, "tts", "run", "--help")
	assert.Contains(t, help.stdout, "--ignore-column")
}
