package autocall_test

import (
	"testing"

	"github.com/autocallvn/autocall-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

// A template and its keys typed in NFD (pasted from macOS) reach the
// provider as one: the sandbox, like TEL4VN, answers "Missing TTS Key" when
// the run's keys are not the imported template's.
func TestTTSRunNFDKeysReachTheSandboxTemplate(t *testing.T) {
	srv, c, _ := sandbox()
	defer srv.Close()
	nfd := norm.NFD.String
	tmpl := autocall.Template{Name: "nhac_no", Content: nfd("Chào {{tên_khách}}, khoản nợ {{số_tiền}}")}
	require.NoError(t, c.TTS.ImportTemplate(ctx, "1", &tmpl))

	for _, req := range []*autocall.TTSRequest{
		{Template: &tmpl, Params: map[string]string{"tên_khách": "Nguyễn Văn A", "số_tiền": autocall.Money(500000)}},
		{TemplateName: "nhac_no", Params: map[string]string{nfd("tên_khách"): nfd("Nguyễn Văn A"), nfd("số_tiền"): "500.000"}},
	} {
		req.Caller, req.Callees = "02873001234", []string{"0987654321"}
		res, err := c.TTS.Run(ctx, "1", req)
		require.NoError(t, err)
		assert.Empty(t, res.Rejected)
		assert.Len(t, res.Accepted, 1)
	}
}
