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
	} {
		got, err := NormalizePhone(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
}

func TestNormalizePhoneRejects(t *testing.T) {
	for _, in := range []string{"", "   ", "1234567890", "0123456789", "098765432", "09876543210", "0187654321",
		"+1 415 555 0100", "0987654321x", "09876 54321 ext", "098765432١", "++84987654321", "0212345678", "84"} {
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
