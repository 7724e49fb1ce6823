package batch

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// listedLock looks for a flock on f in /proc/locks, whose lines read
// "1: FLOCK  ADVISORY  WRITE 15529 fe:00:9978031 0 EOF" (the device's
// major and minor in hex, then the inode). known is false when the list
// cannot be read.
func listedLock(f *os.File) (held, known bool) {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return false, false
	}
	dev := uint64(st.Dev)
	major := (dev>>8)&0xfff | (dev>>32)&^0xfff
	minor := dev&0xff | (dev>>12)&^0xff
	id := fmt.Sprintf("%02x:%02x:%d", major, minor, st.Ino)
	locks, err := os.Open("/proc/locks")
	if err != nil {
		return false, false
	}
	defer locks.Close()
	sc := bufio.NewScanner(locks)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 6 && fields[1] == "FLOCK" && fields[5] == id {
			return true, true
		}
	}
	return false, sc.Err() == nil
}
