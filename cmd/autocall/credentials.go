package main

import (
	"os"
	"strings"
)

// credentials are the provider credentials a command may use.
type credentials struct {
	secret, apiKey, token string
}

// credentials reads the credential given by flag (or flag file), or else
// the environment's. A flag's credential replaces the environment's
// entirely: `--access-token T` with AUTOCALL_SECRET_KEY exported must use
// (and check) T, never the exported key. Two credentials given by flags
// are a usage error: which one was meant cannot be guessed.
func (a *app) credentials() (credentials, error) {
	flags := []struct{ name, value string }{
		{"--secret-key", a.secretKey}, {"--secret-key-file", a.secretFile},
		{"--api-key", a.apiKey}, {"--api-key-file", a.apiFile},
		{"--access-token", a.accessToken}, {"--access-token-file", a.accessFile},
	}
	var given []string
	for _, f := range flags {
		if f.value != "" {
			given = append(given, f.name)
		}
	}
	switch len(given) {
	case 0:
		return credentials{a.env("AUTOCALL_SECRET_KEY"), a.env("AUTOCALL_API_KEY"), a.env("AUTOCALL_ACCESS_TOKEN")}, nil
	case 1:
	default:
		return credentials{}, usagef("%s: give one credential by flag, not %d", strings.Join(given, " and "), len(given))
	}
	var c credentials
	var err error
	switch {
	case a.secretKey != "", a.secretFile != "":
		c.secret, err = flagSecret(a.secretKey, a.secretFile)
	case a.apiKey != "", a.apiFile != "":
		c.apiKey, err = flagSecret(a.apiKey, a.apiFile)
	default:
		c.token, err = flagSecret(a.accessToken, a.accessFile)
	}
	return c, err
}

// flagSecret is a secret given by its flag or read from its file flag.
func flagSecret(value, file string) (string, error) {
	if file == "" {
		return value, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", usagef("reading %s: %v", file, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", usagef("%s is empty", file)
	}
	return s, nil
}
