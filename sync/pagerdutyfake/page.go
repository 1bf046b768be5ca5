package pagerdutyfake

import (
	"html/template"
	"net/http"
	"strconv"
	"time"
)

// pageRoutes serves the demo page: who is on call in each schedule now,
// a form to put a user on call and a button to end a shift now. The forms
// are protected against cross-origin posts.
func (s *Server) pageRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /{$}", s.page)
	csrf := http.NewCrossOriginProtection()
	m.Handle("POST /admin/oncall", csrf.Handler(http.HandlerFunc(s.pagePutOnCall)))
	m.Handle("POST /admin/end-shift", csrf.Handler(http.HandlerFunc(s.pageEndShift)))
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Simulated PagerDuty</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin-bottom: 1rem; }
td, th { border-bottom: 1px solid #ddd; padding: 0.25rem 0.75rem; text-align: left; }
form { display: inline; }
</style>
</head>
<body>
<h1>Simulated PagerDuty</h1>
<p>A fake of the PagerDuty REST API for the portal's demo and tests. Now: <time>{{.Now}}</time>.</p>
{{range .Schedules}}
<h2>{{.Name}} <code>{{.ID}}</code></h2>
<p>Escalation policy {{.Policy}}, level {{.Level}}.</p>
{{if .OnCall}}<table>
<tr><th>on call</th><th>from</th><th>until</th><th></th></tr>
{{range .OnCall}}<tr><td>{{.Name}} &lt;{{.Email}}&gt;{{if .Override}} (override){{end}}</td><td>{{.Start}}</td><td>{{.End}}</td>
<td><form method="post" action="/admin/end-shift"><input type="hidden" name="schedule" value="{{.Schedule}}"><input type="hidden" name="email" value="{{.Email}}"><button>End shift now</button></form></td></tr>
{{end}}</table>{{else}}<p>Nobody is on call.</p>{{end}}
<form method="post" action="/admin/oncall">
<input type="hidden" name="schedule" value="{{.ID}}">
<label>Put <select name="email">{{range $.Users}}<option value="{{.Email}}">{{.Name}} &lt;{{.Email}}&gt;</option>{{end}}</select></label>
<label>on call for <input name="hours" type="number" min="1" max="168" value="8"> hours</label>
<button>Put on call</button>
</form>
{{else}}<p>No schedules.</p>{{end}}
</body>
</html>
`))

type pageOnCall struct {
	Schedule, Name, Email, Start, End string
	Override                          bool
}

type pageSchedule struct {
	ID, Name, Policy string
	Level            uint
	OnCall           []pageOnCall
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	now := s.clock()
	show := func(t time.Time) string {
		if t.IsZero() {
			return "open-ended"
		}
		return t.In(s.location).Format(time.RFC3339)
	}
	var schedules []pageSchedule
	for _, sc := range s.Schedules() {
		ps := pageSchedule{ID: sc.ID, Name: sc.Name, Policy: sc.EscalationPolicyName, Level: sc.EscalationLevel}
		for _, oc := range s.OnCallAt(sc.ID, now) {
			name := ""
			for _, u := range s.Users() {
				if u.ID == oc.UserID {
					name = u.Name
				}
			}
			ps.OnCall = append(ps.OnCall, pageOnCall{Schedule: sc.ID, Name: name, Email: oc.UserEmail,
				Start: show(oc.Start), End: show(oc.End), Override: oc.Override})
		}
		schedules = append(schedules, ps)
	}
	data := map[string]any{"Now": show(now), "Schedules": schedules, "Users": s.Users()}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := pageTemplate.Execute(w, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// pagePutOnCall puts a user on call in a schedule from now for the hours
// given.
func (s *Server) pagePutOnCall(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	hours, err := strconv.Atoi(r.PostForm.Get("hours"))
	if err != nil || hours < 1 || hours > 168 {
		http.Error(w, "hours must be a whole number from 1 to 168", http.StatusBadRequest)
		return
	}
	now := s.clock()
	if err := s.PutOnCall(r.PostForm.Get("schedule"), r.PostForm.Get("email"), now, now.Add(time.Duration(hours)*time.Hour)); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// pageEndShift ends a user's current shift in a schedule now.
func (s *Server) pageEndShift(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if err := s.EndShift(r.PostForm.Get("schedule"), r.PostForm.Get("email")); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
