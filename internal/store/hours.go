package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
	_ "time/tzdata" // the time zones, also on a machine without them
)

// Hours are a routing group's opening hours: one opening a day at most, in a time zone. A day missing from Days is
// closed.
type Hours struct {
	TimeZone string              `json:"timezone"`
	Days     map[string]DayHours `json:"days"`
}

// DayHours is one day's opening, "09:00" to "18:00" (local time; "24:00" is the end of the day).
type DayHours struct {
	Open  string `json:"open"`
	Close string `json:"close"`
}

// Weekdays are the keys of Hours.Days, Monday first.
var Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

var weekdayKey = map[time.Weekday]string{time.Monday: "mon", time.Tuesday: "tue", time.Wednesday: "wed",
	time.Thursday: "thu", time.Friday: "fri", time.Saturday: "sat", time.Sunday: "sun"}

// Validate checks the hours; the error says what is wrong, in plain words.
func (h Hours) Validate() error {
	if _, err := time.LoadLocation(h.TimeZone); err != nil || h.TimeZone == "" {
		return fmt.Errorf("unknown time zone %q: use a name like Europe/Paris", h.TimeZone)
	}
	open := 0
	for day, d := range h.Days {
		if _, ok := dayIndex(day); !ok {
			return fmt.Errorf("unknown day %q: use mon, tue, wed, thu, fri, sat or sun", day)
		}
		from, okFrom := minutes(d.Open)
		to, okTo := minutes(d.Close)
		if !okFrom || !okTo || from >= to {
			return fmt.Errorf("%s: the opening must be a time like 09:00, before the closing, like 18:00", day)
		}
		open++
	}
	if open == 0 {
		return errors.New("open at least one day, or leave the hours out to be always open")
	}
	return nil
}

func dayIndex(day string) (int, bool) {
	for i, d := range Weekdays {
		if d == day {
			return i, true
		}
	}
	return 0, false
}

// minutes reads "HH:MM" (00:00 to 24:00) as minutes since midnight.
func minutes(s string) (int, bool) {
	var hh, mm int
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &hh, &mm); err != nil || hh > 24 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return hh*60 + mm, true
}

// OpenAt reports whether the hours are open at t. Nil hours are always open; hours that don't load (a time zone
// this machine doesn't know) are taken as open rather than turning every visitor away.
func (h *Hours) OpenAt(t time.Time) bool {
	if h == nil {
		return true
	}
	loc, err := time.LoadLocation(h.TimeZone)
	if err != nil {
		return true
	}
	local := t.In(loc)
	d, ok := h.Days[weekdayKey[local.Weekday()]]
	if !ok {
		return false
	}
	from, _ := minutes(d.Open)
	to, _ := minutes(d.Close)
	now := local.Hour()*60 + local.Minute()
	return now >= from && now < to
}

// NextOpening is when the hours next open after t (t itself when open), within a week; zero when never.
func (h *Hours) NextOpening(t time.Time) time.Time {
	if h.OpenAt(t) {
		return t
	}
	loc, err := time.LoadLocation(h.TimeZone)
	if err != nil {
		return time.Time{}
	}
	local := t.In(loc)
	for i := 0; i <= 7; i++ {
		day := time.Date(local.Year(), local.Month(), local.Day()+i, 0, 0, 0, 0, loc)
		d, ok := h.Days[weekdayKey[day.Weekday()]]
		if !ok {
			continue
		}
		from, _ := minutes(d.Open)
		at := day.Add(time.Duration(from) * time.Minute)
		if at.After(t) {
			return at
		}
	}
	return time.Time{}
}

func hoursJSON(h *Hours) string {
	if h == nil {
		return ""
	}
	b, _ := json.Marshal(h)
	return string(b)
}

func parseHours(s string) *Hours {
	if s == "" {
		return nil
	}
	var h Hours
	if err := json.Unmarshal([]byte(s), &h); err != nil {
		return nil
	}
	return &h
}
