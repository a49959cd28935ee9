package awscost

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Template is what the monthly prices depend on, counted in the stack's
// synthesized CloudFormation template (cdk.out/SupportStack.template.json).
type Template struct {
	// Alarm metrics: a metric alarm is billed per metric it reads.
	Alarms, HighResolutionAlarms int
	// CustomMetrics are the metrics outside the AWS/ namespaces that the
	// alarms and dashboards read or the metric filters write, as
	// "namespace/name" followed by their dimensions.
	CustomMetrics []string
	// FilterMetrics are the custom metrics the metric filters write.
	FilterMetrics                []string
	Dashboards, Secrets, KMSKeys int
	Functions                    map[string]Function // by name: "webhook"
}

// Function is what the template says of a Lambda function.
type Function struct {
	MemoryMB            int
	Tracing             string // "Active", "PassThrough" or ""
	ReservedConcurrency int
	RunsPerMonth        float64 // scheduled invocations; 0 when not scheduled
}

type resource struct {
	Type       string
	Properties json.RawMessage
}

// ReadTemplate counts what Monthly prices in a CloudFormation template.
func ReadTemplate(r io.Reader) (Template, error) {
	var tmpl struct{ Resources map[string]resource }
	if err := json.NewDecoder(r).Decode(&tmpl); err != nil {
		return Template{}, fmt.Errorf("template: %w", err)
	}
	t := Template{Functions: map[string]Function{}}
	custom := map[string]bool{}
	names := map[string]string{} // function logical id → name
	ids := slices.Sorted(maps.Keys(tmpl.Resources))
	for _, id := range ids {
		res := tmpl.Resources[id]
		var err error
		switch res.Type {
		case "AWS::CloudWatch::Alarm":
			err = t.alarm(res.Properties, custom)
		case "AWS::CloudWatch::Dashboard":
			t.Dashboards++
			err = dashboardMetrics(res.Properties, custom)
		case "AWS::Logs::MetricFilter":
			var p struct {
				MetricTransformations []metricRef
			}
			err = json.Unmarshal(res.Properties, &p)
			for _, m := range p.MetricTransformations {
				custom[m.key()] = true
				t.FilterMetrics = append(t.FilterMetrics, m.key())
			}
		case "AWS::SecretsManager::Secret":
			t.Secrets++
		case "AWS::KMS::Key":
			t.KMSKeys++
		case "AWS::Lambda::Function":
			var p struct {
				MemorySize                   int
				TracingConfig                struct{ Mode string }
				ReservedConcurrentExecutions int
			}
			err = json.Unmarshal(res.Properties, &p)
			name, _, _ := strings.Cut(id, "Function")
			name = strings.ToLower(name)
			names[id] = name
			t.Functions[name] = Function{MemoryMB: p.MemorySize, Tracing: p.TracingConfig.Mode, ReservedConcurrency: p.ReservedConcurrentExecutions}
		}
		if err != nil {
			return Template{}, fmt.Errorf("template: %s: %w", id, err)
		}
	}
	// Schedules last: they name their functions by logical id.
	for _, id := range ids {
		res := tmpl.Resources[id]
		if res.Type != "AWS::Events::Rule" {
			continue
		}
		var p struct {
			ScheduleExpression string
			Targets            []struct {
				Arn struct {
					GetAtt []string `json:"Fn::GetAtt"`
				}
			}
		}
		if err := json.Unmarshal(res.Properties, &p); err != nil {
			return Template{}, fmt.Errorf("template: %s: %w", id, err)
		}
		if p.ScheduleExpression == "" {
			continue
		}
		runs, err := RunsPerMonth(p.ScheduleExpression)
		if err != nil {
			return Template{}, fmt.Errorf("template: %s: %w", id, err)
		}
		for _, target := range p.Targets {
			if len(target.Arn.GetAtt) == 0 {
				continue
			}
			if name, ok := names[target.Arn.GetAtt[0]]; ok {
				f := t.Functions[name]
				f.RunsPerMonth += runs
				t.Functions[name] = f
			}
		}
	}
	t.CustomMetrics = slices.Sorted(maps.Keys(custom))
	return t, nil
}

// metricRef is a metric as alarms and metric filters name it.
type metricRef struct {
	Namespace, MetricName string
	MetricNamespace       string // a metric filter's
	Dimensions            []struct {
		Name, Key string
		Value     json.RawMessage
	}
}

func (m metricRef) key() string {
	ns := m.Namespace + m.MetricNamespace
	var dims []string
	for _, d := range m.Dimensions {
		dims = append(dims, d.Name+d.Key+"="+strings.Trim(string(d.Value), `"`))
	}
	sort.Strings(dims)
	return strings.Join(append([]string{ns + "/" + m.MetricName}, dims...), " ")
}

func isCustom(namespace string) bool { return !strings.HasPrefix(namespace, "AWS/") }

func (t *Template) alarm(props json.RawMessage, custom map[string]bool) error {
	var p struct {
		metricRef
		Period  int
		Metrics []struct {
			MetricStat *struct {
				Metric metricRef
				Period int
			}
		}
	}
	if err := json.Unmarshal(props, &p); err != nil {
		return err
	}
	count := func(m metricRef, period int) {
		if period > 0 && period < 60 {
			t.HighResolutionAlarms++
		} else {
			t.Alarms++
		}
		if isCustom(m.Namespace) {
			custom[m.key()] = true
		}
	}
	if p.MetricName != "" {
		count(p.metricRef, p.Period)
	}
	for _, m := range p.Metrics {
		if m.MetricStat != nil {
			count(m.MetricStat.Metric, m.MetricStat.Period)
		}
	}
	return nil
}

// dashboardMetrics adds the custom metrics a dashboard's widgets read. The
// body is JSON, usually joined with references (queue names, function
// names), which do not matter here.
func dashboardMetrics(props json.RawMessage, custom map[string]bool) error {
	var p struct{ DashboardBody json.RawMessage }
	if err := json.Unmarshal(props, &p); err != nil {
		return err
	}
	var body string
	if err := json.Unmarshal(p.DashboardBody, &body); err != nil {
		var join struct {
			Join []json.RawMessage `json:"Fn::Join"`
		}
		if err := json.Unmarshal(p.DashboardBody, &join); err != nil || len(join.Join) != 2 {
			return fmt.Errorf("dashboard body is neither a string nor a Fn::Join")
		}
		var parts []json.RawMessage
		if err := json.Unmarshal(join.Join[1], &parts); err != nil {
			return err
		}
		var b strings.Builder
		for _, part := range parts {
			var s string
			if json.Unmarshal(part, &s) != nil {
				s = "reference"
			}
			b.WriteString(s)
		}
		body = b.String()
	}
	var d struct {
		Widgets []struct {
			Properties struct {
				Metrics [][]any
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		return fmt.Errorf("dashboard body: %w", err)
	}
	for _, w := range d.Widgets {
		// A row is [namespace, name, dimension, value, …, {options}]; "."
		// repeats the previous row's field, and a math expression has only
		// the options.
		var prev []string
		for _, row := range w.Properties.Metrics {
			var fields []string
			for i, v := range row {
				s, ok := v.(string)
				if !ok {
					break
				}
				if s == "." && i < len(prev) {
					s = prev[i]
				}
				fields = append(fields, s)
			}
			prev = fields
			if len(fields) < 2 || !isCustom(fields[0]) {
				continue
			}
			m := metricRef{Namespace: fields[0], MetricName: fields[1]}
			for i := 2; i+1 < len(fields); i += 2 {
				m.Dimensions = append(m.Dimensions, struct {
					Name, Key string
					Value     json.RawMessage
				}{Name: fields[i], Value: json.RawMessage(strconv.Quote(fields[i+1]))})
			}
			custom[m.key()] = true
		}
	}
	return nil
}

var (
	rateExpr = regexp.MustCompile(`^rate\((\d+) (minute|hour|day)s?\)$`)
	// A daily cron: fixed minute and hour, every day of the month and week.
	dailyCron = regexp.MustCompile(`^cron\(\d+ \d+ [*?] \* [*?] \*\)$`)
)

// RunsPerMonth is how often an EventBridge schedule fires in a month.
func RunsPerMonth(expr string) (float64, error) {
	if m := rateExpr.FindStringSubmatch(expr); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("schedule %q: bad rate", expr)
		}
		per := map[string]float64{"minute": HoursPerMonth * 60, "hour": HoursPerMonth, "day": daysPerMonth}[m[2]]
		return per / float64(n), nil
	}
	if dailyCron.MatchString(expr) {
		return daysPerMonth, nil
	}
	return 0, fmt.Errorf("schedule %q: only rate(…) and daily cron(…) are priced", expr)
}

// Monthly prices what costs the same whatever the traffic. Fixed are the
// prices of what the template creates; upTo bounds what grows with time
// up to a ceiling: X-Ray's reservoir of one trace a second for each traced
// function (the webhook's and the processor's 5 % on top are per webhook,
// in Price; the drafter's per draft request, in PriceDrafting), and the
// webhook function's last-accepted mark, a write a minute per instance.
func Monthly(t Template, d Deployment) (fixed, upTo []Line) {
	each := func(item, what string, n int, price float64) Line {
		return Line{item, fmt.Sprintf("%d %s × $%.2f", n, what, price), float64(n) * price}
	}
	fixed = append(fixed, each("CloudWatch alarms", "standard-resolution metric alarms", t.Alarms, PriceAlarmMonth))
	if t.HighResolutionAlarms > 0 {
		fixed = append(fixed, each("CloudWatch alarms, high resolution", "metric alarms", t.HighResolutionAlarms, PriceHighResAlarmMonth))
	}
	fixed = append(fixed,
		each("CloudWatch custom metrics", fmt.Sprintf("that alarms and the dashboard read (%d of them from metric filters)", len(t.FilterMetrics)),
			len(t.CustomMetrics), PriceMetricMonth),
		each("CloudWatch dashboard", "dashboard", t.Dashboards, PriceDashboardMonth),
		each("Secrets Manager", "secrets", t.Secrets, PriceSecretMonth),
		each("KMS", "customer managed key", t.KMSKeys, PriceKMSKeyMonth),
	)
	var reserved []string
	total := 0
	perTrace := PriceXRayRecorded + d.XRayScans*PriceXRayScanned
	for _, name := range slices.Sorted(maps.Keys(t.Functions)) {
		f := t.Functions[name]
		if f.ReservedConcurrency > 0 {
			reserved = append(reserved, fmt.Sprintf("%s %d", name, f.ReservedConcurrency))
			total += f.ReservedConcurrency
		}
		if f.Tracing != "Active" {
			continue
		}
		switch {
		case f.RunsPerMonth > 0 && f.RunsPerMonth <= secondsPerMonth:
			// Under one a second, the reservoir takes every run.
			fixed = append(fixed, Line{"X-Ray, " + name, fmt.Sprintf("%.0f scheduled runs, every one traced and scanned", f.RunsPerMonth), f.RunsPerMonth * perTrace})
		case name == "webhook" && d.WebhookTraced, name == "processor" && d.ProcessorTraced, name == "drafter" && d.DrafterTraced:
			what := "webhook"
			if name == "drafter" {
				what = "draft request"
			}
			upTo = append(upTo, Line{"X-Ray reservoir, " + name,
				fmt.Sprintf("%.2fM traces: one a second, less the %.0f %% priced per %s", secondsPerMonth*(1-d.XRaySampled)/1e6, 100*d.XRaySampled, what),
				secondsPerMonth * (1 - d.XRaySampled) * perTrace})
		default:
			upTo = append(upTo, Line{"X-Ray reservoir, " + name,
				fmt.Sprintf("%.2fM traces: every request while under one a second", secondsPerMonth/1e6), secondsPerMonth * perTrace})
		}
	}
	// The last-accepted mark: a write at most once a minute per warm
	// webhook instance (stats.Buffer.MarkEvery), up to its reserved
	// concurrency; one instance stays warm on a steady trickle.
	if w, ok := t.Functions["webhook"]; ok {
		instances := max(w.ReservedConcurrency, 1)
		writes := float64(instances) * HoursPerMonth * 60
		upTo = append(upTo, Line{"DynamoDB, last-accepted mark", fmt.Sprintf("%.2fM writes: one a minute per webhook instance (%d), $%.3f an instance",
			writes/1e6, instances, HoursPerMonth*60*PriceWRU), writes * PriceWRU})
	}
	fixed = append(fixed, Line{"Lambda reserved concurrency", fmt.Sprintf("%d taken from the account's unreserved pool (%s); no price of its own",
		total, strings.Join(reserved, ", ")), 0})
	return fixed, upTo
}
