package monitoring

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SchedulePeriod is the longest gap between two runs of a cron schedule (the five fields Kubernetes' CronJob
// takes, or one of its macros @yearly, @monthly, @weekly, @daily, @hourly): the longest a healthy backup's
// last success can age before the next run. "0 1 * * *" is 24h; "0 1 * * 1-5" is 72h, Friday to Monday.
// The runs are walked over four years from 2024-01-01 UTC, which hold a leap day and every weekday of every
// month, so a schedule on the 29th of February or the 31st of a month is measured too.
func SchedulePeriod(schedule string) (time.Duration, error) {
	s, err := parseSchedule(schedule)
	if err != nil {
		return 0, err
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(4, 0, 0)
	var runs int
	var previous time.Time
	var longest time.Duration
	for day := start; day.Before(end); day = day.AddDate(0, 0, 1) {
		if !s.runsOn(day) {
			continue
		}
		for hour := 0; hour < 24; hour++ {
			if !s.hour[hour] {
				continue
			}
			for minute := 0; minute < 60; minute++ {
				if !s.minute[minute] {
					continue
				}
				t := day.Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
				if runs > 0 && t.Sub(previous) > longest {
					longest = t.Sub(previous)
				}
				previous = t
				runs++
			}
		}
	}
	if runs < 2 {
		return 0, fmt.Errorf("%q runs at most once in four years", schedule)
	}
	return longest, nil
}

// cronSchedule holds each field's allowed values.
type cronSchedule struct {
	minute, hour, dayOfMonth, month, dayOfWeek map[int]bool
	// anyDayOfMonth and anyDayOfWeek record a "*": cron runs on a day matching either day field when both are
	// restricted, and on a day matching the restricted one otherwise.
	anyDayOfMonth, anyDayOfWeek bool
}

var macros = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
	"@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

var (
	monthNames = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}
	dayNames   = map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
)

func parseSchedule(schedule string) (*cronSchedule, error) {
	text := strings.TrimSpace(schedule)
	if expanded, ok := macros[strings.ToLower(text)]; ok {
		text = expanded
	}
	fields := strings.Fields(text)
	if len(fields) != 5 {
		return nil, fmt.Errorf("%q is not a cron schedule of five fields (minute hour day-of-month month day-of-week)", schedule)
	}
	s := &cronSchedule{anyDayOfMonth: fields[2] == "*" || fields[2] == "?", anyDayOfWeek: fields[4] == "*" || fields[4] == "?"}
	var err error
	for _, f := range []struct {
		into     *map[int]bool
		text     string
		min, max int
		names    map[string]int
	}{
		{&s.minute, fields[0], 0, 59, nil}, {&s.hour, fields[1], 0, 23, nil}, {&s.dayOfMonth, fields[2], 1, 31, nil},
		{&s.month, fields[3], 1, 12, monthNames}, {&s.dayOfWeek, fields[4], 0, 7, dayNames},
	} {
		if *f.into, err = parseField(f.text, f.min, f.max, f.names); err != nil {
			return nil, fmt.Errorf("%q: %v", schedule, err)
		}
	}
	if s.dayOfWeek[7] { // Sunday, written as 7
		s.dayOfWeek[0] = true
	}
	return s, nil
}

// parseField reads one field: *, ?, n, a-b, with /step, in a comma-separated list.
func parseField(text string, min, max int, names map[string]int) (map[int]bool, error) {
	values := map[int]bool{}
	number := func(s string) (int, error) {
		if n, ok := names[strings.ToLower(s)]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < min || n > max {
			return 0, fmt.Errorf("%q is not a value from %d to %d", s, min, max)
		}
		return n, nil
	}
	for _, part := range strings.Split(text, ",") {
		rangePart, stepPart, stepped := strings.Cut(part, "/")
		step := 1
		if stepped {
			n, err := strconv.Atoi(stepPart)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%q has no positive step", part)
			}
			step = n
		}
		low, high := min, max
		switch {
		case rangePart == "*" || rangePart == "?":
		case strings.Contains(rangePart, "-"):
			a, b, _ := strings.Cut(rangePart, "-")
			var err error
			if low, err = number(a); err != nil {
				return nil, err
			}
			if high, err = number(b); err != nil {
				return nil, err
			}
			if low > high {
				return nil, fmt.Errorf("%q is a range that ends before it starts", part)
			}
		default:
			n, err := number(rangePart)
			if err != nil {
				return nil, err
			}
			low, high = n, n
			if stepped {
				high = max
			}
		}
		for v := low; v <= high; v += step {
			values[v] = true
		}
	}
	return values, nil
}

// runsOn reports whether the schedule runs on the day t falls on.
func (s *cronSchedule) runsOn(t time.Time) bool {
	if !s.month[int(t.Month())] {
		return false
	}
	dom, dow := s.dayOfMonth[t.Day()], s.dayOfWeek[int(t.Weekday())]
	switch {
	case s.anyDayOfMonth && s.anyDayOfWeek:
		return true
	case s.anyDayOfMonth:
		return dow
	case s.anyDayOfWeek:
		return dom
	}
	return dom || dow
}
