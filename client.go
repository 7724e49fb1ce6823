package autocall

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/autocallvn/autocall-go/internal/vntime"
	"github.com/go-resty/resty/v2"
)

// Version is the SDK's version, sent in the User-Agent.
const Version = "0.2.0"

// vietnam is Asia/Ho_Chi_Minh, the module's one definition (internal/vntime).
var vietnam = vntime.Zone

// DefaultTimeout bounds one attempt of one request.
const DefaultTimeout = 30 * time.Second

// Client talks to one provider's base URL with one credential.
type Client struct {
	AutoCall *AutoCallService // OMICall auto-call
	OTP      *OTPService      // TEL4VN OTP voice calls
	TTS      *TTSService      // TEL4VN text-to-speech templates and calls
	CDR      *CDRService      // TEL4VN call detail reports

	common service

	provider  Provider
	baseURL   string // no trailing slash
	rc        *resty.Client
	rcClose   *resty.Client // the token requests': their connections are never reused
	auth      atomic.Pointer[authHeader]
	hc        *http.Client
	counting  bool // hc's connections count their writes (reached.go)
	tokens    *tokenCache
	retry     RetryPolicy
	timeout   time.Duration
	logger    *slog.Logger
	userAgent string
	loc       *time.Location
	redact    *redactor
	now       func() time.Time
	observer  Observer // nil: none (observe.go)
	host      string   // the observer's server.address and server.port
	port      int
}

type service struct{ client *Client }

// Option configures a Client.
type Option func(*settings)

// Provider is the API a Client talks to. A Client serves one provider:
// OMICall clients have AutoCall, TEL4VN clients OTP, TTS and CDR.
type Provider uint8

const (
	// OMICall: auto-call campaigns, authenticated with an API key
	// (WithAPIKey). Production base URL: https://public-v1.omicall.com.
	OMICall Provider = iota + 1
	// TEL4VN: OTP voice calls, TTS templates and call reports,
	// authenticated with a secret key (WithSecretKey).
	TEL4VN
)

func (p Provider) String() string {
	switch p {
	case OMICall:
		return "OMICall"
	case TEL4VN:
		return "TEL4VN"
	}
	return "Provider(" + strconv.Itoa(int(p)) + ")"
}

// credentialFor names the credential option that makes a client of p.
func (p Provider) credentialFor() string {
	if p == OMICall {
		return "WithAPIKey"
	}
	return "WithSecretKey"
}

type settings struct {
	provider  Provider // from the credential, or WithProvider
	named     Provider // WithProvider's
	creds     []string // the names of the credential options given, to find none or two
	secretKey string
	apiKey    string
	token     string
	source    TokenSource
	hc        *http.Client
	idle      time.Duration // WithCreateIdleTimeout's
	timeout   time.Duration
	retry     RetryPolicy
	logger    *slog.Logger
	userAgent string
	loc       *time.Location
	observer  Observer
	errs      []*ValidationError
}

func (s *settings) fail(field, reason string) { s.errs = append(s.errs, invalid(field, "", reason)) }

// WithSecretKey authenticates with a TEL4VN secret key, exchanged for an
// access token at POST /api/v1/users/generate_access_token.
func WithSecretKey(secret string) Option {
	return func(s *settings) {
		s.creds = append(s.creds, "WithSecretKey")
		s.provider = TEL4VN
		if secret == "" {
			s.fail("SecretKey", "empty")
		}
		s.secretKey = secret
	}
}

// WithAPIKey authenticates with an OMICall API key, exchanged for an access
// token at GET /api/auth?apiKey=.
func WithAPIKey(key string) Option {
	return func(s *settings) {
		s.creds = append(s.creds, "WithAPIKey")
		s.provider = OMICall
		if key == "" {
			s.fail("APIKey", "empty")
		}
		s.apiKey = key
	}
}

// WithAccessToken uses a token issued out of band, for the provider named
// with WithProvider. It is never refreshed: a rejection is returned as
// ErrUnauthorized.
func WithAccessToken(token string) Option {
	return func(s *settings) {
		s.creds = append(s.creds, "WithAccessToken")
		if err := checkToken(token); err != nil {
			s.fail("AccessToken", strings.TrimPrefix(err.Error(), ErrUnexpectedResponse.Error()+": "))
		}
		s.token = token
	}
}

// WithTokenSource uses tokens from ts, cached by the Client, for the
// provider named with WithProvider.
func WithTokenSource(ts TokenSource) Option {
	return func(s *settings) {
		s.creds = append(s.creds, "WithTokenSource")
		if ts == nil {
			s.fail("TokenSource", "nil")
		}
		s.source = ts
	}
}

// WithProvider names the provider of a client made with WithAccessToken or
// WithTokenSource. WithAPIKey (OMICall) and WithSecretKey (TEL4VN) name it
// themselves; naming another is an error.
func WithProvider(p Provider) Option {
	return func(s *settings) {
		if p != OMICall && p != TEL4VN {
			s.fail("Provider", "must be OMICall or TEL4VN")
		}
		s.named = p
	}
}

// WithHTTPClient sends requests through a copy of hc; hc itself is never
// changed. Its Timeout, if any, applies on top of WithTimeout. Its
// CheckRedirect is not used: the SDK follows no redirect. An
// *http.Transport (or none) is cloned and given the SDK's connection
// handling (reached.go, frame.go); another RoundTripper is used as it is, and
// then WithCreateIdleTimeout has no effect.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *settings) { s.hc = hc }
}

// WithCreateIdleTimeout tells the Client how long the provider's servers
// (or the load balancer in front of them) keep an idle connection open,
// default DefaultCreateIdleTimeout (2 s). Call-creating requests never go
// out on a connection idle for more than three quarters of it: one written
// just as the server closes it would never be read, yet would have to be
// reported ErrOutcomeUnknown. Set it at or below the server's keep-alive
// timeout; a lower value costs only more new connections. Reads keep their
// connections as long as the transport allows. It has no effect when
// WithHTTPClient's Transport is not an *http.Transport: the SDK cannot
// split or configure another RoundTripper's pool.
func WithCreateIdleTimeout(d time.Duration) Option {
	return func(s *settings) {
		if d <= 0 {
			s.fail("CreateIdleTimeout", "must be positive")
		}
		s.idle = d
	}
}

// WithTimeout bounds each attempt of a request (default 30s). The ctx given
// to each method bounds the whole, retries included.
func WithTimeout(d time.Duration) Option {
	return func(s *settings) {
		if d <= 0 {
			s.fail("Timeout", "must be positive")
		}
		s.timeout = d
	}
}

// WithRetryPolicy replaces DefaultRetryPolicy(); zero fields keep the defaults.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(s *settings) {
		if p.MaxAttempts < 0 || p.BaseDelay < 0 || p.MaxDelay < 0 {
			s.fail("RetryPolicy", "negative field")
		}
		s.retry = p
	}
}

// WithLogger logs each attempt at debug level: method, path, status,
// attempt and duration. Never a secret, a query string or a body.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) { s.logger = l }
}

// WithUserAgent adds the application's own product token to the SDK's
// User-Agent, "autocall-go/0.2.0 shop/1.0", as stripe-go's AppInfo does: the
// provider's support can then tell both the SDK and the application.
func WithUserAgent(product string) Option {
	return func(s *settings) {
		product = strings.TrimSpace(product)
		for _, r := range product {
			if r < ' ' || r == 0x7f {
				s.fail("UserAgent", "control character")
				return
			}
		}
		if product != "" {
			s.userAgent = product
		}
	}
}

// WithLocation sets the zone CDR times are read in (default Asia/Ho_Chi_Minh).
func WithLocation(loc *time.Location) Option {
	return func(s *settings) {
		if loc == nil {
			s.fail("Location", "nil")
		}
		s.loc = loc
	}
}

// NewClient returns a Client for the API at baseURL (for example
// https://public-v1.omicall.com). Exactly one credential option is needed.
// Invalid settings are a *ValidationError.
func NewClient(baseURL string, opts ...Option) (*Client, error) {
	s := settings{
		idle:    DefaultCreateIdleTimeout,
		timeout: DefaultTimeout,
		retry:   DefaultRetryPolicy(),
		loc:     vietnam,
	}
	for _, o := range opts {
		if o != nil {
			o(&s)
		}
	}
	base, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if len(s.errs) > 0 {
		return nil, s.errs[0]
	}
	switch len(s.creds) {
	case 0:
		return nil, invalid("Credential", "", "none given: use one of WithSecretKey, WithAPIKey, WithAccessToken, WithTokenSource")
	case 1:
	default:
		return nil, invalid("Credential", "", "more than one given: "+strings.Join(s.creds, ", "))
	}
	switch {
	case s.provider == 0 && s.named == 0:
		return nil, invalid("Provider", "", s.creds[0]+" needs WithProvider(autocall.OMICall) or WithProvider(autocall.TEL4VN)")
	case s.provider != 0 && s.named != 0 && s.named != s.provider:
		return nil, invalid("Provider", s.named.String(), s.creds[0]+" makes a "+s.provider.String()+" client")
	case s.provider == 0:
		s.provider = s.named
	}

	c := &Client{
		provider:  s.provider,
		baseURL:   base,
		retry:     s.retry.withDefaults(),
		timeout:   s.timeout,
		logger:    s.logger,
		userAgent: strings.TrimSpace("autocall-go/" + Version + " " + s.userAgent),
		loc:       s.loc,
		now:       time.Now,
		redact:    newRedactor(s.secretKey, s.apiKey, s.token),
		observer:  s.observer,
	}
	if c.observer != nil {
		c.host, c.port = hostPort(base)
	}
	if c.logger == nil {
		c.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c.hc, c.counting = copyHTTPClient(s.hc, s.idle)
	c.rc = c.newResty()
	// A token answer echoes the credential ("id" is the secret key). Bytes
	// a server sends past its Content-Length would reach net/http's own
	// "Unsolicited response" line in log.Default if the connection went
	// back to the pool; closed at once, it never reads them.
	c.rcClose = c.newResty().SetCloseConnection(true)
	c.tokens = c.newTokenCache(s)

	c.common.client = c
	c.AutoCall = (*AutoCallService)(&c.common)
	c.OTP = (*OTPService)(&c.common)
	c.TTS = (*TTSService)(&c.common)
	c.CDR = (*CDRService)(&c.common)
	return c, nil
}

func (c *Client) newResty() *resty.Client {
	return resty.NewWithClient(c.hc).
		SetLogger(discardLogger{}).
		SetRetryCount(0). // the retry decision is ours: resty would resend POSTs
		// Constant for the Client's life, so set once here, before any
		// request can be in flight; the token is set per request.
		SetHeader("User-Agent", c.userAgent).
		SetHeader("Accept", "application/json")
}

func (c *Client) newTokenCache(s settings) *tokenCache {
	tc := &tokenCache{
		observer:    c.observer,
		provider:    c.provider,
		refreshable: true,
		now:         c.now,
		onToken:     c.redact.addToken,
		onRefreshErr: func(err error) {
			c.logger.LogAttrs(context.Background(), slog.LevelWarn, "autocall token refresh failed; the current token is still used",
				slog.String("error", c.redact.string(err.Error())))
		},
		// A fetch has its own retries; this bounds it for callers that wait
		// with no deadline of their own. One attempt's worth of slack: on a
		// loaded machine the time between attempts adds up, and a bound of
		// exactly MaxAttempts·(timeout+MaxDelay) cut the last attempt off.
		fetchTimeout: time.Duration(c.retry.MaxAttempts)*(c.timeout+c.retry.MaxDelay) + c.timeout,
	}
	switch {
	case s.secretKey != "":
		tc.src = &secretKeySource{c: c, key: s.secretKey}
	case s.apiKey != "":
		tc.src = &apiKeySource{c: c, key: s.apiKey}
	case s.token != "":
		tc.src, tc.refreshable = staticSource{tok: s.token}, false
	default:
		tc.src = s.source
	}
	return tc
}

// TokenExpiry returns when the Client's cached token expires: zero when it
// holds none yet, or the expiry is unknown (WithAccessToken). Call
// Authenticate first to fetch one. The token itself is never exposed.
func (c *Client) TokenExpiry() time.Time {
	if c == nil || c.tokens == nil {
		return time.Time{}
	}
	c.tokens.mu.Lock()
	defer c.tokens.mu.Unlock()
	return c.tokens.tok.Expiry
}

// Provider returns the provider the Client talks to.
func (c *Client) Provider() Provider { return c.provider }

// BaseURL returns the base URL requests are sent to.
func (c *Client) BaseURL() string { return c.baseURL }

// CloseIdleConnections closes the Client's idle keep-alive connections.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// parseBaseURL checks the base URL. An error quotes it only once it is
// known to carry no password: an unparseable URL is not quoted at all.
func parseBaseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil:
		return "", invalid("BaseURL", "", "not a URL (not quoted: it may hold a password)")
	case u.User != nil:
		return "", invalid("BaseURL", "", "must not carry user credentials")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", invalid("BaseURL", raw, "must be an absolute http or https URL")
	case u.Host == "":
		return "", invalid("BaseURL", raw, "has no host")
	case u.RawQuery != "" || u.Fragment != "":
		return "", invalid("BaseURL", u.Scheme+"://"+u.Host+u.Path, "must not have a query or fragment")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// copyHTTPClient copies hc so that nothing the SDK sets reaches the
// caller's client. An *http.Transport is cloned so that its connections can
// count what they write, and split so that creates never go out on a
// connection idle long enough for the server to be closing it (reached.go);
// another RoundTripper is used as it is, with less proof of what was sent.
// Redirects are not followed: none of the APIs redirects, and a followed
// 307 would send a call-creating POST a second time.
func copyHTTPClient(hc *http.Client, createIdle time.Duration) (_ *http.Client, counting bool) {
	var cp http.Client
	if hc != nil {
		cp = *hc
	}
	var tr *http.Transport
	switch t := cp.Transport.(type) {
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		tr = t.Clone()
	}
	if tr != nil {
		if tr.MaxIdleConnsPerHost == 0 {
			tr.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
		}
		if tr.MaxIdleConns != 0 && tr.MaxIdleConns < tr.MaxIdleConnsPerHost {
			tr.MaxIdleConns = tr.MaxIdleConnsPerHost
		}
		var ownTLS dialFunc
		ownTLS, counting = countWrites(tr)
		cp.Transport = newSplitTransport(tr, createIdle, ownTLS)
	}
	// Whatever the caller's client says: a followed 307 or 308 would send a
	// call-creating POST, and a TEL4VN secret_key body, to another host.
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp, counting
}

// discardLogger silences resty, which would otherwise print warnings that
// may include request details.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}

// Authenticate makes sure the Client holds a usable token, fetching one if
// needed: a start-up check that the credential works. Other methods do
// this by themselves. A failure is a *TokenError (ErrNotSent), as a
// method's is, wrapping the cause; during the back-off after a failed
// fetch it is that failure, with Cached set (and nobody is asked).
func (c *Client) Authenticate(ctx context.Context) error {
	if c == nil || c.tokens == nil {
		return errZeroClient()
	}
	if ctx == nil {
		return errNilContext()
	}
	if _, err := c.tokens.token(ctx); err != nil {
		// Typed as a method's token failure is (request.go): a batch that
		// authenticates before a send tells a create that never left.
		te := tokenError("", "", err)
		te.Err = c.redact.error(te.Err)
		return te
	}
	return nil
}
