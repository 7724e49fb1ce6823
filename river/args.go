package autocallriver

import (
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/batch"
)

// The job kinds, stable: a job inserted by any River client (Go, Python,
// Ruby, JavaScript) with one of these kinds and the JSON below is worked by
// this package's worker.
const (
	KindOTP       = "autocall_otp"       // OTPArgs: a TEL4VN OTP call
	KindTTS       = "autocall_tts"       // TTSArgs: a TEL4VN text-to-speech run
	KindPhone     = "autocall_phone"     // PhoneArgs: an OMICall auto-call to phones
	KindExtension = "autocall_extension" // ExtensionArgs: an OMICall auto-call to extensions
)

// Queue is the River queue of the call jobs: the worker works it, and the
// uniqueness of a key is checked in it.
const Queue = "autocall"

// Common is what every call job carries (JSON, all optional but key):
//
//	"key":           "order-A1"        the user's key (an order id): one call, ever, per key
//	"purpose":       "transactional"   or "advertising" (held to Decree 91: hours, once a
//	                                   number per 24 hours, the Do-Not-Call list)
//	"agreed":        ["hours"]         what the subscriber agreed to: "hours", "frequency",
//	                                   "dnc" (or "all")
//	"retry_refused": false             send it even if the journal holds it refused
//	"retry_causes":  ["quota"]         … refused for one of these causes only
//
// One job per key: the args' InsertOpts make River insert a key once in
// the queue, whatever the kind (UniqueOpts ByArgs on key, ExcludeKind,
// ByQueue), among jobs not yet cancelled or discarded; the journal's claim
// is the last guard, for clients that insert without those options.
type Common struct {
	Key          string   `json:"key" river:"unique"`
	Purpose      string   `json:"purpose,omitempty"`
	Agreed       []string `json:"agreed,omitempty"`
	RetryRefused bool     `json:"retry_refused,omitempty"`
	RetryCauses  []string `json:"retry_causes,omitempty"`
}

// InsertOpts puts call jobs in Queue, one per key (see Common), with no
// cap on River's attempts that would discard a job left unsent: a job
// the provider never got is retried with backoff until it goes.
func (Common) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       Queue,
		MaxAttempts: 1000,
		UniqueOpts: river.UniqueOpts{
			ByArgs: true, ByQueue: true, ExcludeKind: true,
		},
	}
}

// job is the batch.Job of c with op.
func (c Common) job(op batch.Op) (batch.Job, error) {
	p, err := batch.ParsePurpose(c.Purpose)
	if err != nil {
		return batch.Job{}, err
	}
	a, err := batch.ParseAgreement(strings.Join(c.Agreed, ","))
	if err != nil {
		return batch.Job{}, err
	}
	if strings.TrimSpace(c.Key) == "" {
		return batch.Job{}, &autocall.ValidationError{Field: "key", Reason: "empty"}
	}
	return batch.Job{Key: c.Key, Op: op, Purpose: p, Agreed: a}, nil
}

// OTPArgs is an OTP call (TEL4VN), kind "autocall_otp":
//
//	{"key": "order-A1", "campaign_id": "1", "caller": "02873001234",
//	 "callees": ["0987654321"], "template_name": "otp", "code": "1234",
//	 "callback_url": "https://shop.example/hooks/call"}
//
// The code is a secret kept in River's row (river_job.args) only while
// the call may still go: once the job has ended for good the worker sets
// it to "" (placed: in the transaction that completes the job; refused,
// unknown, or its key already settled: right after the outcome is
// written, best effort), since River keeps a finished job's row for its
// retention (CompletedJobRetentionPeriod, 24 hours by default; cancelled
// jobs too). A job left unsent keeps it for River's next attempt. A job
// worked again after that (JobRetry) sends nothing: an empty code is
// refused before any request, and the key is settled. The callback's API
// key is the worker's (Worker.CallbackAPIKey), never in a job.
type OTPArgs struct {
	Common
	CampaignID   string   `json:"campaign_id"`
	Caller       string   `json:"caller"`
	Callees      []string `json:"callees"`
	TemplateName string   `json:"template_name"`
	Code         string   `json:"code"`
	CallbackURL  string   `json:"callback_url,omitempty"`
}

// Kind implements river.JobArgs.
func (OTPArgs) Kind() string { return KindOTP }

func (a OTPArgs) batchJob(w *Worker) (batch.Job, error) {
	return a.job(batch.OTP(a.CampaignID, &autocall.OTPRequest{
		Caller: a.Caller, Callees: a.Callees, TemplateName: a.TemplateName, Code: a.Code,
		CallbackURL: a.CallbackURL, CallbackAPIKey: w.callbackKey(a.CallbackURL),
	}))
}

// TTSArgs is a text-to-speech run (TEL4VN), kind "autocall_tts":
//
//	{"key": "order-A1", "campaign_id": "1", "caller": "02873001234",
//	 "callees": ["0987654321"], "template_name": "nhac_thanh_toan",
//	 "template": "Chào bạn {{customer_name}} …",
//	 "params": {"customer_name": "Nguyễn Văn A"}, "callback_url": "…"}
//
// "template", when set, is the template's content: params are checked
// against its placeholders before anything is sent (a bad row is refused).
type TTSArgs struct {
	Common
	CampaignID   string            `json:"campaign_id"`
	Caller       string            `json:"caller"`
	Callees      []string          `json:"callees"`
	TemplateName string            `json:"template_name"`
	Template     string            `json:"template,omitempty"`
	Params       map[string]string `json:"params,omitempty"`
	CallbackURL  string            `json:"callback_url,omitempty"`
}

// Kind implements river.JobArgs.
func (TTSArgs) Kind() string { return KindTTS }

func (a TTSArgs) batchJob(w *Worker) (batch.Job, error) {
	req := &autocall.TTSRequest{Caller: a.Caller, Callees: a.Callees, TemplateName: a.TemplateName, Params: a.Params,
		CallbackURL: a.CallbackURL, CallbackAPIKey: w.callbackKey(a.CallbackURL)}
	if a.Template != "" {
		req.Template = &autocall.Template{Name: a.TemplateName, Content: a.Template}
	}
	return a.job(batch.TTS(a.CampaignID, req))
}

// Step is one step of an OMICall dialplan, exactly one field set:
// {"text": "Đơn hàng của bạn"}, {"recording": "5ed0c6…"}, {"ivr_menu": "…"}.
type Step struct {
	Text      string `json:"text,omitempty"`
	Recording string `json:"recording,omitempty"`
	IVRMenu   string `json:"ivr_menu,omitempty"`
}

func dialplan(steps []Step) (*autocall.Dialplan, error) {
	d := autocall.NewDialplan()
	for i, s := range steps {
		switch {
		case s.Text != "" && s.Recording == "" && s.IVRMenu == "":
			d = d.Text(s.Text)
		case s.Recording != "" && s.Text == "" && s.IVRMenu == "":
			d = d.Recording(s.Recording)
		case s.IVRMenu != "" && s.Text == "" && s.Recording == "":
			d = d.IVRMenu(s.IVRMenu)
		default:
			return nil, &autocall.ValidationError{Field: fmt.Sprintf("dialplan[%d]", i), Reason: "exactly one of text, recording, ivr_menu"}
		}
	}
	return d, nil
}

// PhoneArgs is an auto-call session to phones (OMICall), kind
// "autocall_phone":
//
//	{"key": "order-A1", "name": "Giao hàng", "voice": "banmai", "speed": 0,
//	 "cid": "", "phones": ["0987654321"],
//	 "dialplan": [{"text": "Đơn hàng của bạn"}, {"recording": "5ed0c6…"}],
//	 "num_retry": 1, "num_per_call": 15, "distance_per_call_s": 30, "distance_retry_s": 300}
type PhoneArgs struct {
	Common
	Name             string   `json:"name,omitempty"`
	Voice            string   `json:"voice,omitempty"`
	Speed            int      `json:"speed,omitempty"`
	CID              string   `json:"cid,omitempty"`
	Phones           []string `json:"phones"`
	Dialplan         []Step   `json:"dialplan"`
	NumRetry         int      `json:"num_retry,omitempty"`
	NumPerCall       int      `json:"num_per_call,omitempty"`
	DistancePerCallS int      `json:"distance_per_call_s,omitempty"`
	DistanceRetryS   int      `json:"distance_retry_s,omitempty"`
}

// Kind implements river.JobArgs.
func (PhoneArgs) Kind() string { return KindPhone }

func (a PhoneArgs) batchJob(*Worker) (batch.Job, error) {
	d, err := dialplan(a.Dialplan)
	if err != nil {
		return batch.Job{}, err
	}
	return a.job(batch.ByPhone(&autocall.PhoneCallRequest{
		Name: a.Name, Voice: autocall.Voice(a.Voice), Speed: a.Speed, CID: a.CID, Dialplan: d, Phones: a.Phones,
		NumRetry: a.NumRetry, NumPerCall: a.NumPerCall,
		DistancePerCall: time.Duration(a.DistancePerCallS) * time.Second, DistanceRetry: time.Duration(a.DistanceRetryS) * time.Second,
	}))
}

// ExtensionArgs is an auto-call to PBX extensions (OMICall), kind
// "autocall_extension":
//
//	{"key": "order-A1-staff", "extensions": ["101"], "cid": "02873001234",
//	 "brand_name": "SHOP", "name": "", "voice": "banmai", "speed": 0,
//	 "dialplan": [{"text": "Có đơn hàng mới"}]}
type ExtensionArgs struct {
	Common
	Extensions []string `json:"extensions"`
	CID        string   `json:"cid"`
	BrandName  string   `json:"brand_name,omitempty"`
	Name       string   `json:"name,omitempty"`
	Voice      string   `json:"voice,omitempty"`
	Speed      int      `json:"speed,omitempty"`
	Dialplan   []Step   `json:"dialplan"`
}

// Kind implements river.JobArgs.
func (ExtensionArgs) Kind() string { return KindExtension }

func (a ExtensionArgs) batchJob(*Worker) (batch.Job, error) {
	d, err := dialplan(a.Dialplan)
	if err != nil {
		return batch.Job{}, err
	}
	return a.job(batch.ByExtension(&autocall.ExtensionCallRequest{
		Extensions: a.Extensions, CID: a.CID, BrandName: a.BrandName, Name: a.Name,
		Voice: autocall.Voice(a.Voice), Speed: a.Speed, Dialplan: d,
	}))
}
