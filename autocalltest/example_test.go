package autocalltest_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
)

func ExampleNewServer() {
	srv := autocalltest.NewServer()
	defer srv.Close()
	c, err := autocall.NewClient(srv.URL, autocall.WithSecretKey(autocalltest.SecretKey))
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.OTP.Send(context.Background(), "1", &autocall.OTPRequest{
		Caller: "02873001234", Callees: []string{"0912340001"}, TemplateName: "template_otp_1", Code: "M43TUI"})
	if err != nil {
		log.Fatal(err)
	}
	srv.Advance(autocalltest.RingTime) // numbers ending in 0001 are busy
	cdr, _ := c.CDR.Get(context.Background(), res.Accepted[0])
	fmt.Println(cdr.Status)
	// Output: BUSY
}

func ExampleServer_FailNext() {
	srv := autocalltest.NewServer()
	defer srv.Close()
	c, _ := autocall.NewClient(srv.URL, autocall.WithAPIKey(autocalltest.APIKey))

	// The provider places the call, then the connection drops.
	srv.FailNext("/api/auto_call/execute_by_phone", 1, autocalltest.Fault{Process: true, Reset: true})
	_, err := c.AutoCall.ExecuteByPhone(context.Background(), &autocall.PhoneCallRequest{
		Dialplan: autocall.NewDialplan().Text("Xin chào"), Phones: []string{"0987654321"}})
	fmt.Println(errors.Is(err, autocall.ErrOutcomeUnknown), len(srv.Sessions()), srv.Count("/api/auto_call/execute_by_phone"))
	// Output: true 1 1
}
