package tailnetfake

import (
	"html/template"
	"net/http"
)

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>Simulated tailnet {{.Tailnet}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
pre { background: #f6f6f4; border: 1px solid #ddd; padding: 1rem; overflow: auto; }
code { font-size: 0.9rem; }
table { border-collapse: collapse; }
td, th { border-bottom: 1px solid #ddd; padding: 0.25rem 0.75rem; text-align: left; }
</style>
</head>
<body>
<h1>Simulated tailnet <code>{{.Tailnet}}</code></h1>
<p>A fake of the Tailscale control API for the portal's demo and tests. Read only; refreshes every 5 seconds.</p>
<h2>Policy file</h2>
<p>ETag <code id="etag">{{.ETag}}</code> · {{.Writes}} write(s) through the API</p>
<pre id="policy"><code>{{.Policy}}</code></pre>
<h2>Users</h2>
{{if .Users}}<table>
<tr><th>login</th><th>role</th><th>status</th><th>devices</th></tr>
{{range .Users}}<tr><td>{{.LoginName}}</td><td>{{.Role}}</td><td>{{.Status}}</td><td>{{.DeviceCount}}</td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}
<h2>Devices</h2>
{{if .Devices}}<table>
<tr><th>name</th><th>user</th><th>tags</th><th>addresses</th></tr>
{{range .Devices}}<tr><td>{{.Name}}</td><td>{{.User}}</td><td>{{range .Tags}}{{.}} {{end}}</td><td>{{range .Addresses}}{{.}} {{end}}</td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}
</body>
</html>
`))

// page serves GET /: a read-only view of the policy file, its ETag, users
// and devices, for the demo.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	text, etag := s.Policy()
	data := struct {
		Tailnet string
		Policy  string
		ETag    string
		Writes  int
		Users   []User
		Devices []Device
	}{s.tailnet, string(text), etag, s.Writes(), s.Users(), s.Devices()}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := pageTemplate.Execute(w, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
