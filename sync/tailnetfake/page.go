package tailnetfake

import (
	"errors"
	"html/template"
	"net/http"
	"strings"
)

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"keys": sortedAttributeKeys,
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Simulated tailnet {{.Tailnet}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/portal.css">
<style>
textarea { width: 100%; box-sizing: border-box; font-family: ui-monospace, monospace; font-size: 0.85rem; tab-size: 2; }
.refused { white-space: pre-wrap; }
.note { color: var(--muted); }
</style>
</head>
<body>
<header class="top"><strong>Tailscale</strong> <span class="badge">simulated tailnet</span></header>
<main>
<h1>Tailnet <code>{{.Tailnet}}</code></h1>
<p class="note">A fake of the Tailscale control API for the portal's demo and tests. Reload to see changes.</p>
<h2>Policy file</h2>
<p>ETag <code id="etag">{{.ETag}}</code> · {{.Writes}} write(s)</p>
{{if .Refusal}}<div class="banner error refused" id="refusal" role="alert">{{.Refusal}}</div>{{end}}
<form method="post" action="/policy">
<p><label for="policy">Edit the policy and save it, as a push from git or an edit in the admin console would replace it.</label></p>
<textarea id="policy" name="policy" rows="28" spellcheck="false">{{.Policy}}</textarea>
<p><label>Author <input name="actor" value="{{.Owner}}"></label>
<label>Made as <select name="via"><option value="git">a push from git (API)</option><option value="console">an admin console edit</option></select></label>
<button type="submit">Save policy</button></p>
</form>
<h2>Users</h2>
{{if .Users}}<table>
<tr><th>login</th><th>role</th><th>status</th><th>devices</th></tr>
{{range .Users}}<tr><td>{{.LoginName}}</td><td>{{.Role}}</td><td>{{.Status}}</td><td>{{.DeviceCount}}</td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}
<h2>Devices</h2>
{{if .Devices}}<table>
<tr><th>name</th><th>user</th><th>tags</th><th>addresses</th><th>posture attributes</th></tr>
{{range .Devices}}<tr><td>{{.Name}}</td><td>{{.User}}</td><td>{{range .Tags}}{{.}} {{end}}</td><td>{{range .Addresses}}{{.}} {{end}}</td>
<td>{{$a := .Attributes}}{{range keys $a}}{{$v := index $a .}}<div><code>{{.}}</code> = {{$v.Value}}{{if not $v.Expiry.IsZero}} until {{$v.Expiry.UTC.Format "2006-01-02 15:04:05 MST"}}{{end}}</div>{{else}}none{{end}}</td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}
<h2>Configuration log</h2>
{{if .Log}}<table>
<tr><th>time</th><th>action</th><th>actor</th><th>target</th><th>origin</th></tr>
{{range .Log}}<tr><td>{{.EventTime.UTC.Format "2006-01-02 15:04:05"}}</td><td>{{.Action}}</td><td>{{or .Actor.LoginName .Actor.DisplayName}}</td><td>{{.Target.Type}} {{.Target.Name}} {{.Target.Property}}</td><td>{{.Origin}}</td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}
</main>
</body>
</html>
`))

// pageDevice is a device with its live posture attributes, for the page.
type pageDevice struct {
	Device
	Attributes map[string]PostureAttribute
}

// page serves GET /: the policy file in an editable form, its ETag, users,
// devices with their posture attributes, and the configuration log.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	text, _ := s.Policy()
	s.renderPage(w, http.StatusOK, string(text), "")
}

func (s *Server) renderPage(w http.ResponseWriter, status int, policy, refusal string) {
	_, etag := s.Policy()
	var devices []pageDevice
	for _, d := range s.Devices() {
		devices = append(devices, pageDevice{Device: d, Attributes: s.PostureAttributes(d.NodeID)})
	}
	log := s.ConfigLog()
	if len(log) > 20 {
		log = log[len(log)-20:]
	}
	data := struct {
		Tailnet, Policy, ETag, Owner, Refusal string
		Writes                                int
		Users                                 []User
		Devices                               []pageDevice
		Log                                   []ConfigLogEntry
	}{s.tailnet, policy, etag, s.owner, refusal, s.Writes(), s.Users(), devices, log}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	pageTemplate.Execute(w, data) //nolint:errcheck // the browser went away
}

// pagePolicy serves POST /policy (same-origin only): the submitted text
// replaces the policy as a push from git (through the API, as Tailscale's
// GitOps action does) or an admin console edit by the named author, with
// the same validation and tests as an API write. A refused policy is shown
// again with the refusal; a stored one redirects to the page.
func (s *Server) pagePolicy(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxPolicySize)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "reading form: "+err.Error(), http.StatusBadRequest)
		return
	}
	text := strings.ReplaceAll(r.PostForm.Get("policy"), "\r\n", "\n")
	actor := strings.TrimSpace(r.PostForm.Get("actor"))
	if actor == "" {
		actor = s.owner
	}
	origin := "API"
	if r.PostForm.Get("via") == "console" {
		origin = "ADMIN_CONSOLE"
	}
	err := s.applyPolicy([]byte(text), "", s.userActor(actor), origin)
	var ref *Refusal
	if errors.As(err, &ref) {
		s.renderPage(w, ref.Status, text, ref.Error())
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
