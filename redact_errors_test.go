package autocall

import (
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
)

// valueError is an error of a value type: %#v prints its text.
type valueError string

func (e valueError) Error() string { return string(e) }

// matchingError matches io.ErrUnexpectedEOF by its own Is method.
type matchingError struct{ text string }

func (e matchingError) Error() string        { return e.text }
func (e matchingError) Is(target error) bool { return target == io.ErrUnexpectedEOF }

// No error in a redacted chain keeps the original text where fmt's %#v,
// %+v or a reflection-based printer (as error reporters use) can read it;
// errors.Is still matches what the originals matched.
func TestRedactedChainKeepsNoOriginal(t *testing.T) {
	r := newRedactor(testSecretKey)
	errs := []error{
		&TransportError{Method: "GET", Path: "/x", Err: fmt.Errorf("w: %w", &net.OpError{Op: "read", Net: "tcp", Err: valueError("bad " + testSecretKey)})},
		fmt.Errorf("join: %w", errors.Join(valueError("a "+testSecretKey), matchingError{"b " + testSecretKey}, io.EOF)),
		matchingError{"c " + testSecretKey},
	}
	for _, e := range errs {
		red := r.error(e)
		for _, link := range errorChain(red) {
			for _, s := range []string{link.Error(), fmt.Sprintf("%v", link), fmt.Sprintf("%+v", link), fmt.Sprintf("%#v", link), fmt.Sprintf("%#v", reflect.Indirect(reflect.ValueOf(link)).Interface())} {
				assert.NotContains(t, s, testSecretKey)
			}
		}
	}
	joined := r.error(errs[1])
	assert.ErrorIs(t, joined, io.EOF)
	assert.ErrorIs(t, joined, io.ErrUnexpectedEOF, "the Is method of a replaced error still answers")
	assert.ErrorIs(t, r.error(errs[2]), io.ErrUnexpectedEOF)
	assert.NotErrorIs(t, r.error(errs[2]), io.EOF)
	assert.ErrorIs(t, r.error(errs[0]), ErrNetwork)
	sentinel := valueError("sentinel " + testSecretKey)
	assert.ErrorIs(t, r.error(fmt.Errorf("w: %w", sentinel)), sentinel, "a comparable original still matches itself")
}
