//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/autocalltest"
)

// openPTY opens a pseudo-terminal: the command sees a terminal, the test
// reads the screen.
func openPTY(t *testing.T) (screen *os.File, term *os.File) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		m.Close()
		t.Skipf("no pseudo-terminal here: %v", e)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		m.Close()
		t.Skipf("no pseudo-terminal here: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	return m, s
}

// On a terminal, a refused row's line is on a line of its own, never glued
// to the progress bar, which stdout and stderr share.
func TestRefusedRowOnATerminalIsNotGluedToTheBar(t *testing.T) {
	srv := sandbox(t)
	var b strings.Builder
	b.WriteString("key,phone,code\n")
	for i := 0; i < 12; i++ {
		phone := fmt.Sprintf("09123%05d", 200+i)
		if i%4 == 3 {
			phone = "12345" // refused by the SDK, after rows that drew the bar
		}
		fmt.Fprintf(&b, "t-%d,%s,%d\n", i, phone, i)
	}
	csv := writeFile(t, "pending.csv", b.String())
	screen, term := openPTY(t)
	defer screen.Close()
	cmd := exec.Command(binary, otpCSV(csv, "--workers", "1")...)
	cmd.Env = append(os.Environ(), "AUTOCALL_BASE_URL="+srv.URL, "AUTOCALL_SECRET_KEY="+autocalltest.SecretKey)
	cmd.Stdout, cmd.Stderr = term, term
	require.NoError(t, cmd.Start())
	term.Close() // the child holds it; EOF (EIO) comes when the child exits
	var out bytes.Buffer
	_, _ = io.Copy(&out, screen)
	err := cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 6, ee.ExitCode())

	shown := out.String()
	require.Contains(t, shown, "[###", "a bar was drawn: %q", shown)
	assert.Equal(t, 3, strings.Count(shown, "refused  line"), "%q", shown)
	for _, line := range strings.Split(shown, "\n") {
		// What the terminal shows last on a line is after its last \r.
		visible := line[strings.LastIndex(strings.TrimSuffix(line, "\r"), "\r")+1:]
		if strings.Contains(visible, "refused  line") {
			assert.True(t, strings.HasPrefix(strings.TrimPrefix(visible, "\033[K"), "refused  line"), "glued: %q", line)
			assert.True(t, strings.HasPrefix(visible, "\033[K"), "the bar erased first: %q", line)
		}
	}
	assert.NotContains(t, shown, "<nil>")
}

// On an 80-column terminal every redraw of the bar fits in 79 columns (it
// never wraps) and clears to the end of the line, so a shorter bar leaves no
// stale tail.
func TestBarOnATerminalFitsAndLeavesNoTail(t *testing.T) {
	srv := sandbox(t)
	var b strings.Builder
	b.WriteString("key,phone,code\n")
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&b, "w-%d,09123%05d,%d\n", i, 300+i, i)
	}
	csv := writeFile(t, "pending.csv", b.String())
	screen, term := openPTY(t)
	defer screen.Close()
	cmd := exec.Command(binary, otpCSV(csv, "--workers", "1")...)
	cmd.Env = append(os.Environ(), "AUTOCALL_BASE_URL="+srv.URL, "AUTOCALL_SECRET_KEY="+autocalltest.SecretKey, "COLUMNS=80")
	cmd.Stdout, cmd.Stderr = term, term
	require.NoError(t, cmd.Start())
	term.Close()
	var out bytes.Buffer
	_, _ = io.Copy(&out, screen)
	require.NoError(t, cmd.Wait())

	shown := out.String()
	frames := strings.Split(shown, "\r")
	drawn := 0
	for _, f := range frames {
		if !strings.HasPrefix(f, "[") {
			continue
		}
		drawn++
		text, rest, cleared := strings.Cut(f, "\033[K")
		assert.True(t, cleared, "the bar clears to the end of the line: %q", f)
		assert.LessOrEqual(t, len(text), 79, "fits 80 columns: %q", text)
		assert.NotContains(t, rest, "[#", "one bar per redraw: %q", f)
	}
	assert.Positive(t, drawn, "a bar was drawn: %q", shown)
}
