package loadtest

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// machineCPU is a reading of this machine's CPU time (Linux's /proc/stat), and of this process's.
type machineCPU struct {
	busy, total float64 // in the kernel's ticks, all cores together
	cores       int
	ok          bool
	self        time.Duration
	selfOK      bool
}

func readMachineCPU() machineCPU {
	var m machineCPU
	m.self, m.selfOK = selfCPU()
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return m
	}
	lines := strings.Split(string(data), "\n")
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "cpu") {
			m.cores++
		}
	}
	f := strings.Fields(lines[0])
	if len(f) < 5 || f[0] != "cpu" {
		return m
	}
	for i, s := range f[1:] {
		if i >= 8 { // guest times are already counted in user and nice
			break
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return m
		}
		m.total += v
		if i != 3 && i != 4 { // idle, iowait
			m.busy += v
		}
	}
	m.ok = true
	return m
}
