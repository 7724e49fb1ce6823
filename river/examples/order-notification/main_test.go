package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	autocallriver "github.com/autocallvn/autocall-go/river"
	"github.com/autocallvn/autocall-go/river/pgtest"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Main(m, &pg) }

// The README's commands: migrate, then the service on the sandbox; an
// order posted is called once; posted again, not called again.
func TestOrderIsCalledOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := pg.DB(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := autocallriver.MigrateAll(ctx, pool); err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{"DATABASE_URL": url, "ADDR": addr}
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), func(k string) string { return env[k] })
	}()
	body := `{"order_id":"A1","phone":"0987654321","customer_name":"Nguyễn Văn A","amount":10410000,"due_date":"2021-01-30"}`
	var resp *http.Response
	for try := 0; ; try++ {
		resp, err = http.Post("http://"+addr+"/orders", "application/json", strings.NewReader(body))
		if err == nil || try > 100 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /orders: %v %v", resp, err)
	}
	resp.Body.Close()
	// Posted again: nothing new, and said so.
	resp, err = http.Post("http://"+addr+"/orders", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var again map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&again)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || again["call"] != "exists" {
		t.Fatalf("POST /orders again: %d %v, want 200 exists", resp.StatusCode, again)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/orders/A1")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if m["call"] == "placed" {
			if ids, _ := m["call_ids"].([]any); len(ids) != 1 {
				t.Fatalf("call ids: %v", m)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("order: %v", m)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var jobs int
	pool.QueryRow(ctx, `SELECT count(*) FROM river_job`).Scan(&jobs)
	if jobs != 1 {
		t.Fatalf("%d jobs for one order posted twice", jobs)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
