package autocall

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// A differential test against libphonenumber (nyaruka/phonenumbers, a
// test-only dependency: nothing of it reaches users' binaries). Every
// number of a generated corpus is read by both; where they disagree, the
// disagreement must be one of the policies below, each with its reason, or
// the test fails.

// phonePolicy is a deliberate disagreement with libphonenumber.
type phonePolicy struct {
	name, reason string
	// applies: ours is our reading ("" if refused), lib libphonenumber's
	// national form ("" if invalid), digits the input's digits.
	applies func(in, digits, ours, lib string, typ phonenumbers.PhoneNumberType) bool
}

var phonePolicies = []phonePolicy{
	{
		name: "whole numbering plan",
		reason: "The SDK accepts every 10-digit 03/05/07/08/09 number and every 11-digit 02 number; libphonenumber only " +
			"the blocks its metadata lists as assigned. Carriers open blocks before the metadata is updated, and the " +
			"provider answers a number it cannot call with a per-callee 'Wrong Format', which the SDK reports in " +
			"Rejected: refusing a real customer's new number here would be the worse mistake.",
		applies: func(_, _, ours, lib string, _ phonenumbers.PhoneNumberType) bool {
			return lib == "" && ours != "" && ((len(ours) == 10 && strings.IndexByte("35789", ours[1]) >= 0) || (len(ours) == 11 && ours[1] == '2'))
		},
	},
	{
		name: "no leading 0",
		reason: "libphonenumber reads 9 or 10 digits without a leading 0 (\"987654321\", \"848961159\") as a national " +
			"number missing its 0. The SDK refuses them: a number that lost a digit is as likely, and a call to the " +
			"wrong person costs the business money and the customer's trust. The error suggests the 0 form.",
		applies: func(_, digits, ours, lib string, _ phonenumbers.PhoneNumberType) bool {
			return ours == "" && lib != "" && digits != "" && digits[0] != '0' && "0"+digits == lib
		},
	},
	{
		name: "service numbers",
		reason: "1800 (free), 1900 (premium) and the 069/080 universal access numbers are services, not customers: " +
			"libphonenumber accepts them, the SDK refuses them as callees (a caller id may still be one, see callerNumber).",
		applies: func(_, _, ours, lib string, typ phonenumbers.PhoneNumberType) bool {
			switch typ {
			case phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE, phonenumbers.UAN, phonenumbers.SHARED_COST, phonenumbers.VOIP:
				return ours == "" && lib != ""
			}
			return false
		},
	},
	{
		name: "01 is not a prefix",
		reason: "No Vietnamese number has started with 01 since the 2018 renumbering; libphonenumber still lists some " +
			"10-digit 012x/016x numbers as mobile. The SDK refuses them (an 11-digit one gets the new prefix in its error).",
		applies: func(_, _, ours, lib string, _ phonenumbers.PhoneNumberType) bool {
			return ours == "" && strings.HasPrefix(lib, "01")
		},
	},
}

// libNational is libphonenumber's national reading, "" when invalid, and
// the kind of number it is.
func libNational(s string) (string, phonenumbers.PhoneNumberType) {
	n, err := phonenumbers.Parse(s, "VN")
	if err != nil || !phonenumbers.IsValidNumberForRegion(n, "VN") {
		return "", phonenumbers.UNKNOWN
	}
	return "0" + phonenumbers.GetNationalSignificantNumber(n), phonenumbers.GetNumberType(n)
}

// phoneCorpus: every mobile prefix, every 02 area code, the retired 2018
// prefixes, lengths one off, each in the forms people write.
func phoneCorpus() []string {
	var national []string
	for _, d1 := range "1234567890" {
		for _, d2 := range "0123456789" {
			for _, sub := range []string{"1234567", "0000000", "9876543"} {
				national = append(national, "0"+string(d1)+string(d2)+sub) // 10 digits
			}
			national = append(national, "02"+string(d1)+string(d2)+"1234567") // 11 digits: every area code
			national = append(national, "0"+string(d1)+string(d2)+"12345")    // 8 digits
		}
	}
	for old := range oldMobilePrefixes {
		national = append(national, old+"1234567", old+"9999999")
	}
	national = append(national, "18001234", "19001234", "1900123456", "987654321", "912345678", "2838212345")
	var corpus []string
	for _, n := range national {
		corpus = append(corpus, n, n+"1", n[:len(n)-1])
		if n[0] != '0' {
			continue
		}
		rest := n[1:]
		spaced := rest[:2] + " " + rest[2:5] + " " + rest[5:]
		corpus = append(corpus,
			"+84"+rest, "84"+rest, "0084"+rest, "+84 "+spaced, "(+84) "+spaced, "+84 0"+rest, "+84 (0) "+spaced,
			"0084 0"+rest, "84"+n, n[:4]+"."+n[4:7]+"."+n[7:], n[:4]+"-"+n[4:], "+"+n)
	}
	return corpus
}

func TestNormalizePhoneAgainstLibphonenumber(t *testing.T) {
	counts := map[string]int{}
	examples := map[string]string{}
	for _, in := range phoneCorpus() {
		ours, reason := normalizePhone(in)
		if reason != "" {
			ours = ""
		}
		lib, typ := libNational(in)
		digits, _, _ := phoneDigits(in)
		switch {
		case ours == lib:
			counts["agree"]++
			continue
		case ours != "" && lib != "":
			t.Errorf("%q: the SDK reads %s, libphonenumber %s", in, ours, lib)
			continue
		}
		matched := false
		for _, p := range phonePolicies {
			if p.applies(in, digits, ours, lib, typ) {
				counts[p.name]++
				if _, ok := examples[p.name]; !ok {
					examples[p.name] = fmt.Sprintf("%q: SDK %q, libphonenumber %q", in, ours, lib)
				}
				matched = true
				break
			}
		}
		if !matched {
			t.Errorf("%q: SDK %q (%s), libphonenumber %q: a disagreement no policy explains", in, ours, reason, lib)
		}
	}
	names := make([]string, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t.Logf("%-22s %5d  %s", k, counts[k], examples[k])
	}
	if counts["agree"] < 1000 {
		t.Errorf("only %d agreements: the corpus is too small to mean anything", counts["agree"])
	}
}
