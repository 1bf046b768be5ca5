package oktafake

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/accessportal/portal/static"
)

// adminRoutes serves the demo's admin page: the org's users with their
// status and groups, and buttons for the changes an Okta admin makes.
func (s *Server) adminRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /{$}", s.adminPage)
	m.Handle("GET /portal.css", static.StyleHandler())
	csrf := http.NewCrossOriginProtection()
	m.Handle("POST /admin/users/{id}/{action}", csrf.Handler(http.HandlerFunc(s.adminUserAction)))
	m.Handle("POST /admin/members", csrf.Handler(http.HandlerFunc(s.adminAddMember)))
	m.Handle("POST /admin/users", csrf.Handler(http.HandlerFunc(s.adminAddUser)))
	m.Handle("POST /admin/groups/{id}/members/{userId}/remove", csrf.Handler(http.HandlerFunc(s.adminRemoveMember)))
}

type adminGroupRef struct{ ID, Name string }

type adminUserRow struct {
	ID, Name, Login, Email, Status string
	Groups                         []adminGroupRef
	Others                         []adminGroupRef // groups the user can be added to
	Actions                        []string
}

type adminGroupRow struct {
	ID, Name, Description string
	Members, Active       int
	LastMembershipUpdated string
}

// adminActions are the buttons the page offers for a user: the admin's
// lifecycle operations Okta allows in the user's status, what the person
// can do (be locked out, finish a password flow), and delete for a
// deactivated user. Together they reach every status.
func adminActions(u *user) []string {
	ops := allowedOps(u.status, u.hasPassword(), adminOps)
	ops = append(ops, allowedOps(u.status, u.hasPassword(), personOps)...)
	if u.status == StatusDeprovisioned {
		ops = append(ops, "delete")
	}
	return ops
}

func (s *Server) adminPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	base := s.baseURLLocked(r)
	groups := s.sortedGroupsLocked()
	var users []adminUserRow
	for _, u := range s.sortedUsersLocked() {
		row := adminUserRow{
			ID: u.id, Name: strings.TrimSpace(u.firstName + " " + u.lastName), Login: u.login,
			Email: u.email, Status: u.status, Actions: adminActions(u),
		}
		for _, g := range groups {
			ref := adminGroupRef{ID: g.id, Name: g.name}
			if u.groups[g.id] {
				row.Groups = append(row.Groups, ref)
			} else {
				row.Others = append(row.Others, ref)
			}
		}
		users = append(users, row)
	}
	var grows []adminGroupRow
	for _, g := range groups {
		row := adminGroupRow{ID: g.id, Name: g.name, Description: g.description, Members: len(g.members),
			LastMembershipUpdated: *oktaTime(g.lastMembershipUpdated)}
		for uid := range g.members {
			if u := s.users[uid]; u != nil && u.status == StatusActive {
				row.Active++
			}
		}
		grows = append(grows, row)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = adminPage.Execute(w, map[string]any{"Base": base, "Users": users, "Groups": grows})
}

func (s *Server) adminUserAction(w http.ResponseWriter, r *http.Request) {
	id, action := r.PathValue("id"), r.PathValue("action")
	s.mu.Lock()
	u := s.users[id]
	if u == nil {
		s.mu.Unlock()
		http.Error(w, "no such user", http.StatusNotFound)
		return
	}
	var err error
	if action == "delete" {
		if u.status != StatusDeprovisioned {
			err = notAllowedInStatus()
		} else {
			s.deleteUserLocked(u)
		}
	} else if lerr := s.lifecycleLocked(u, action); lerr != nil {
		err = lerr
	}
	s.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// adminAddUser creates a person, ACTIVE or (as when an admin saves a new
// user without activating) STAGED without a password.
func (s *Server) adminAddUser(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	f := r.PostForm
	login := strings.TrimSpace(f.Get("login"))
	status := StatusActive
	if f.Get("activate") != "yes" {
		status = StatusStaged
	}
	if login == "" {
		http.Error(w, "a login is required", http.StatusBadRequest)
		return
	}
	if _, exists := s.User(login); exists {
		http.Error(w, "login "+login+" already exists", http.StatusConflict)
		return
	}
	s.AddUser(User{Login: login, FirstName: f.Get("firstName"), LastName: f.Get("lastName"), Status: status})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) adminAddMember(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if err := s.AddMember(r.PostForm.Get("group"), r.PostForm.Get("user")); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) adminRemoveMember(w http.ResponseWriter, r *http.Request) {
	if err := s.RemoveMember(r.PathValue("id"), r.PathValue("userId")); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

var adminPage = template.Must(template.New("admin").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Okta Admin (fake)</title>
<link rel="stylesheet" href="/portal.css">
<style>
main{max-width:80rem}
form{display:inline}
.status-ACTIVE{color:var(--ok)}.status-SUSPENDED,.status-LOCKED_OUT,.status-PASSWORD_EXPIRED,.status-RECOVERY{color:var(--warn)}.status-DEPROVISIONED{color:var(--bad)}.status-STAGED,.status-PROVISIONED{color:var(--muted)}
.group{display:inline-block;background:var(--panel);border:1px solid var(--line);border-radius:1rem;padding:0 .2rem 0 .5rem;margin:.1rem}
.group button{padding:0 .35rem;border:0;background:none}
input[type=email],input[name=firstName],input[name=lastName]{font:inherit;padding:.3rem .45rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);max-width:100%}
</style>
</head>
<body>
<header class="top"><strong>Okta Admin</strong> <span class="badge">simulated org</span></header>
<main>
<h1>People and groups</h1>
<p>Management API <code>{{.Base}}/api/v1</code> · OIDC issuer <code>{{.Base}}</code></p>
<h2>People</h2>
<form method="post" action="/admin/users" id="add-user"><input name="login" type="email" required placeholder="login (email)" aria-label="Login"> <input name="firstName" placeholder="first name" aria-label="First name"> <input name="lastName" placeholder="last name" aria-label="Last name"> <label><input type="checkbox" name="activate" value="yes" checked> activate now</label> <button type="submit">Add person</button></form>
<p><small>Buttons are the admin's lifecycle operations Okta allows in each status, plus what the person does: <code>lock_out</code> (too many failed sign-ins) and <code>set_password</code> (finishes the activation, reset or expired-password flow).</small></p>
<table id="users">
<thead><tr><th>Person</th><th>Status</th><th>Groups</th><th>Actions</th></tr></thead>
<tbody>
{{range $u := .Users}}<tr id="user-{{$u.ID}}" data-login="{{$u.Login}}">
<td><strong>{{if $u.Name}}{{$u.Name}}{{else}}{{$u.Login}}{{end}}</strong><br>{{$u.Email}}{{if ne $u.Login $u.Email}}<br><small>login {{$u.Login}}</small>{{end}}</td>
<td class="status-{{$u.Status}}">{{$u.Status}}</td>
<td>{{range $u.Groups}}<span class="group">{{.Name}} <form method="post" action="/admin/groups/{{.ID}}/members/{{$u.ID}}/remove"><button type="submit" title="Remove from {{.Name}}" aria-label="Remove {{$u.Login}} from {{.Name}}">×</button></form></span>
{{end}}{{if $u.Others}}<form method="post" action="/admin/members" class="add-member"><input type="hidden" name="user" value="{{$u.ID}}"><select name="group" aria-label="Group to add {{$u.Login}} to">{{range $u.Others}}<option value="{{.ID}}">{{.Name}}</option>{{end}}</select> <button type="submit">Add to group</button></form>{{end}}</td>
<td>{{range $u.Actions}}<form method="post" action="/admin/users/{{$u.ID}}/{{.}}"><button type="submit" name="action" value="{{.}}">{{.}}</button></form> {{end}}</td>
</tr>
{{end}}</tbody>
</table>
<h2>Groups</h2>
<table id="groups">
<thead><tr><th>Group</th><th>Members</th><th>Active members</th><th>lastMembershipUpdated</th></tr></thead>
<tbody>
{{range .Groups}}<tr id="group-{{.ID}}"><td><strong>{{.Name}}</strong><br><small>{{.Description}}</small></td><td>{{.Members}}</td><td>{{.Active}}</td><td>{{.LastMembershipUpdated}}</td></tr>
{{end}}</tbody>
</table>
</main>
</body>
</html>
`))
