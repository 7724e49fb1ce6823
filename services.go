package autocall

import (
	"context"
	"fmt"
)

// AutoCallService places OMICall auto-call sessions.
type AutoCallService service

// OTPService places TEL4VN OTP voice calls.
type OTPService service

// TTSService manages TEL4VN text-to-speech templates and calls.
type TTSService service

// CDRService reads TEL4VN call detail reports.
type CDRService service

// call is the entry of every service method: it refuses a nil or zero
// Client before anything is sent, and tells the Client's Observer, if any.
func (s *service) call(ctx context.Context, r *request, out any) error {
	if s == nil || s.client == nil || s.client.rc == nil {
		return errZeroClient()
	}
	if s.client.observer != nil {
		return s.client.observed(ctx, r, out)
	}
	return s.client.run(ctx, r, out)
}

// run refuses a method of the other provider, then does r.
func (c *Client) run(ctx context.Context, r *request, out any) error {
	if r.provider != c.provider {
		// An OMICall token at a TEL4VN endpoint would be refused, the token
		// refetched and a call-creating request sent a second time.
		return &ValidationError{Field: "Client", Value: c.provider.String(), also: ErrWrongProvider,
			Reason: fmt.Sprintf("%s %s is %s's: make its client with %s (or WithProvider(autocall.%s))",
				r.method, r.path, r.provider, r.provider.credentialFor(), r.provider)}
	}
	return c.do(ctx, r, out)
}

func errZeroClient() error {
	return invalid("Client", "", "not made by NewClient: a zero or nil Client cannot send")
}
