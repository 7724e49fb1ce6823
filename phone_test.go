package autocall

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"0987654321":       "0987654321",
		"+84987654321":     "0987654321",
		"84987654321":      "0987654321",
		"0084987654321":    "0987654321",
		"+84 98 765 43 21": "0987654321",
		"098.765.4321":     "0987654321",
		"098-765-4321":     "0987654321",
		"(028) 3821 2345":  "02838212345",
		"+84 28 3821 2345": "02838212345",
		"842838212345":     "02838212345",
		" 0912345678 ":     "0912345678",
		"0356789012":       "0356789012",
		"0567890123":       "0567890123",
		"0701234567":       "0701234567",
		"0812345678":       "0812345678",
		// A trunk 0 kept after the country code, as people write it.
		"+84 0987654321":       "0987654321",
		"+84 (0) 98 765 4321":  "0987654321",
		"0084 0954081438":      "0954081438",
		"840376026662":         "0376026662",
		"+84 (0) 28 3821 2345": "02838212345",
		"(+84) 98 765 4321":    "0987654321",
		"( +84) 98 765 4321":   "0987654321",
	} {
		got, err := NormalizePhone(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
}

func TestNormalizePhoneRejects(t *testing.T) {
	for _, in := range []string{"", "   ", "1234567890", "0123456789", "098765432", "09876543210", "0187654321",
		"+1 415 555 0100", "0987654321x", "09876 54321 ext", "098765432١", "++84987654321", "0212345678", "84",
		"+0987654321", "848961159", "98+84", "(84)+987654321", "+", "0084", "84 00987654321"} {
		_, err := NormalizePhone(in)
		require.Error(t, err, in)
		assert.ErrorIs(t, err, ErrInvalidPhone, in)
		assert.ErrorIs(t, err, ErrValidation, in)
		var ve *ValidationError
		require.True(t, errors.As(err, &ve))
		assert.Equal(t, "Phone", ve.Field)
	}
}

func TestRetiredPrefixesNameTheirReplacement(t *testing.T) {
	for in, want := range map[string]string{
		"01689123456":      "prefix 0168 was replaced by 038 in 2018: the number is now 0389123456",
		"+84 168 912 3456": "prefix 0168 was replaced by 038 in 2018",
		"0123 456 7890":    "prefix 0123 was replaced by 083",
		"01992345678":      "prefix 0199 was replaced by 059",
		"0186.123.4567":    "prefix 0186 was replaced by 056",
		"0120 123 4567":    "prefix 0120 was replaced by 070",
	} {
		_, err := NormalizePhone(in)
		require.ErrorIs(t, err, ErrInvalidPhone, in)
		assert.Contains(t, err.Error(), want, in)
	}
	assert.Len(t, oldMobilePrefixes, 21)
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"0987654321", "+84 98 765 43 21", "(028) 3821 2345", "01689123456", "", "+", "8484"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizePhone(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPhone) {
				t.Fatalf("%q: %v does not match ErrInvalidPhone", s, err)
			}
			return
		}
		if again, err := NormalizePhone(n); err != nil || again != n {
			t.Fatalf("%q -> %q is not stable: %q %v", s, n, again, err)
		}
		if len(n) != 10 && len(n) != 11 || n[0] != '0' {
			t.Fatalf("%q -> %q is not a national number", s, n)
		}
	})
}

// Errors name what is wrong with the number as written.
func TestPhoneErrorsSayWhatIsWrong(t *testing.T) {
	for in, want := range map[string]string{
		"848961159":       "7 digits after the country code 84; a Vietnamese number has 9 (mobile) or 10 (fixed line), or is it 0848961159, missing its leading 0?",
		"+0987654321":     "a + must be followed by the country code 84: write 0987654321 or +84987654321",
		"+1 415 555 0100": "country code +141… is not Vietnam's (+84)",
		"1234567890":      "starts with 1: a Vietnamese number starts with 0 (national) or 84 / +84 (international)",
		"098765432":       "9 digits: a Vietnamese mobile has 10",
		"0212345678":      "10 digits starting 02: a fixed line has 11 since 2017",
		"0187654321":      "prefix 01 is neither a mobile prefix",
		"09876543210":     "11 digits starting 09: only a fixed line (02…) has 11 digits",
		"+84":             "nothing after the country code 84",
		"987654321":       "starts with 9: a Vietnamese number starts with 0 (national) or 84 / +84 (international), or is it 0987654321, missing its leading 0?",
		"2838212345":      "or is it 02838212345, missing its leading 0?",
		"098765432l":      "unexpected character 'l'",
		"19001234":        "starts with 1: a Vietnamese number starts with 0 (national) or 84 / +84 (international)",
	} {
		_, err := NormalizePhone(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
	}
	// No suggestion where the 0 form is no number either.
	_, err := NormalizePhone("1234567890")
	assert.NotContains(t, err.Error(), "missing its leading 0")
}

// The caller id is normalised the same way as the callees.
func TestCallerNumberNormalised(t *testing.T) {
	for in, want := range map[string]string{
		"+84 (0) 28 7300 1234": "02873001234",
		"840376026662":         "0376026662",
		"1900 1234":            "19001234", // a hotline: digits, as assigned
	} {
		got, err := callerNumber("Caller", in, true)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
}
