package batch_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

func Example() {
	srv := autocalltest.NewServer() // the sandbox: nobody is phoned
	defer srv.Close()
	c, err := autocall.NewClient(srv.URL, autocall.WithSecretKey(autocalltest.SecretKey))
	if err != nil {
		log.Fatal(err)
	}
	dir, _ := os.MkdirTemp("", "journal")
	defer os.RemoveAll(dir)
	j, err := batch.OpenFile(filepath.Join(dir, "reminders.journal"))
	if err != nil {
		log.Fatal(err)
	}
	defer j.Close()

	// One job per customer and day: the key, not the phone, is what
	// "never twice" is about.
	var jobs []batch.Job
	for i, phone := range []string{"0987654321", "0912345678", "12345"} {
		jobs = append(jobs, batch.Job{
			Key: fmt.Sprintf("customer-%d/2026-11-30", i),
			Op: batch.OTP("1", &autocall.OTPRequest{Caller: "02873001234", Callees: []string{phone},
				TemplateName: "template_otp_1", Code: "M43TUI"}),
		})
	}
	r := &batch.Runner{TEL4VN: c, Journal: j, Workers: 4, Rate: 10}
	rep, err := r.Run(context.Background(), jobs)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("placed %d, refused %d (a bad phone), unknown %d\n", rep.Placed, rep.Refused, rep.Unknown)

	// Running the same list again sends nothing.
	rep, _ = r.Run(context.Background(), jobs)
	fmt.Printf("again: placed %d, already placed %d, already refused %d\n", rep.Placed, rep.AlreadyPlaced, rep.AlreadyRefused)
	fmt.Println("calls placed:", len(srv.Calls()))
	// Output:
	// placed 2, refused 1 (a bad phone), unknown 0
	// again: placed 0, already placed 2, already refused 1
	// calls placed: 2
}

func ExampleResolve() {
	dir, _ := os.MkdirTemp("", "journal")
	defer os.RemoveAll(dir)
	j, _ := batch.OpenFile(filepath.Join(dir, "j"))
	defer j.Close()
	ctx := context.Background()
	// A job whose answer was lost: claimed, then unknown.
	_, _, _ = j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "order-7"}, Resend: batch.Resend{}})
	_ = j.Settle(ctx, batch.Record{Key: "order-7", State: batch.Unknown})

	// You checked with the provider: the customer was not called.
	if err := batch.Resolve(ctx, j, "order-7", batch.Unsent); err != nil {
		log.Fatal(err)
	}
	rec, _, _ := j.Get(ctx, "order-7")
	fmt.Println(rec.State)
	// Output: unsent
}
