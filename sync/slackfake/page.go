package slackfake

import (
	"encoding/json"
	"html"
	"html/template"
	"net/http"
	"regexp"
	"strings"
)

// The page (refreshed every 5 seconds unless a modal is open): a person
// picker, a box to type the slash command, the person's
// open modal as a form, their ephemeral answers, and the messages they can
// see (the public channels and their DM with the app) with working
// buttons. Plain HTML forms, protected by CrossOriginProtection.

func (s *Server) pageRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /{$}", s.page)
	csrf := http.NewCrossOriginProtection()
	m.Handle("POST /ui/command", csrf.Handler(http.HandlerFunc(s.uiCommand)))
	m.Handle("POST /ui/click", csrf.Handler(http.HandlerFunc(s.uiClick)))
	m.Handle("POST /ui/submit", csrf.Handler(http.HandlerFunc(s.uiSubmit)))
	m.Handle("POST /ui/close", csrf.Handler(http.HandlerFunc(s.uiClose)))
}

type pageButton struct{ ActionID, Label, Style string }

type pageBlock struct {
	Text    template.HTML
	Fields  []template.HTML
	Context template.HTML
	Buttons []pageButton
}

type pageMessage struct {
	Channel, TS, Where string
	Edited             bool
	Blocks             []pageBlock
}

type pageInput struct {
	BlockID, Label, Hint, Error string
	Optional, Multiline, Select bool
	Value                       string
	Options                     []option
}

type pageView struct {
	ID, Title, Error string
	Intro            []pageBlock
	Inputs           []pageInput
}

var (
	mentionRE = regexp.MustCompile(`<@([UW][A-Z0-9]+)>`)
	dateRE    = regexp.MustCompile(`<!date\^[^|>]*\|([^>]*)>`)
	linkRE    = regexp.MustCompile(`<([^@!|>][^|>]*)\|([^>]*)>`)
	boldRE    = regexp.MustCompile(`\*([^*\n]+)\*`)
	codeRE    = regexp.MustCompile("`([^`\n]+)`")
)

// mrkdwn renders the parts of Slack's mrkdwn the portal uses
// (https://api.slack.com/reference/surfaces/formatting): mentions, dates,
// links, *bold*, `code`, quotes and line breaks.
func (s *Server) mrkdwn(text string) template.HTML {
	names := map[string]string{}
	for _, u := range s.Users() {
		names[u.ID] = u.Name
	}
	text = mentionRE.ReplaceAllStringFunc(text, func(m string) string {
		id := mentionRE.FindStringSubmatch(m)[1]
		return "@" + cmpOr(names[id], id)
	})
	text = dateRE.ReplaceAllString(text, "$1")
	text = linkRE.ReplaceAllString(text, "$2")
	text = html.EscapeString(html.UnescapeString(text))
	text = boldRE.ReplaceAllString(text, "<b>$1</b>")
	text = codeRE.ReplaceAllString(text, "<code>$1</code>")
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if q, ok := strings.CutPrefix(l, "&gt;"); ok {
			l = "<q>" + q + "</q>"
		}
		lines = append(lines, l)
	}
	return template.HTML(strings.Join(lines, "<br>"))
}

func (s *Server) pageBlocks(raw []byte, fallback string) []pageBlock {
	bs, _ := parseBlocks(raw)
	if len(bs) == 0 {
		return []pageBlock{{Text: s.mrkdwn(fallback)}}
	}
	var out []pageBlock
	for _, b := range bs {
		var pb pageBlock
		switch b.Type {
		case "section", "header":
			if b.Text != nil {
				pb.Text = s.mrkdwn(b.Text.Text)
			}
			for _, f := range b.Fields {
				pb.Fields = append(pb.Fields, s.mrkdwn(f.Text))
			}
		case "context":
			var parts []string
			for _, t := range b.contextTexts() {
				parts = append(parts, string(s.mrkdwn(t.Text)))
			}
			pb.Context = template.HTML(strings.Join(parts, " "))
		case "actions":
			for _, e := range b.actionElements() {
				if e.Type == "button" && e.Text != nil {
					pb.Buttons = append(pb.Buttons, pageButton{ActionID: e.ActionID, Label: e.Text.Text, Style: e.Style})
				}
			}
		default:
			continue
		}
		out = append(out, pb)
	}
	return out
}

func (s *Server) pageViewOf(userID string) *pageView {
	v, ok := s.OpenView(userID)
	if !ok {
		return nil
	}
	var m modal
	json.Unmarshal(v.JSON, &m)
	bs, _ := parseBlocks(m.Blocks)
	pv := &pageView{ID: v.ID, Title: v.Title, Error: v.Errors[""]}
	for _, b := range bs {
		if b.Type != "input" {
			raw, _ := json.Marshal([]block{b})
			pv.Intro = append(pv.Intro, s.pageBlocks(raw, "")...)
			continue
		}
		in := pageInput{BlockID: b.BlockID, Label: b.Label.Text, Optional: b.Optional, Error: v.Errors[b.BlockID]}
		if b.Hint != nil {
			in.Hint = b.Hint.Text
		}
		switch b.Element.Type {
		case "static_select":
			in.Select, in.Options = true, b.Element.Options
			if b.Element.InitialOption != nil {
				in.Value = b.Element.InitialOption.Value
			}
		default:
			in.Multiline, in.Value = b.Element.Multiline, b.Element.InitialValue
		}
		pv.Inputs = append(pv.Inputs, in)
	}
	return pv
}

func (s *Server) pageMessagesOf(userID string) []pageMessage {
	s.mu.Lock()
	var ids []string
	for _, id := range s.chanOrder {
		if c := s.channels[id]; c.imUser == "" || c.imUser == userID {
			ids = append(ids, id)
		}
	}
	names := map[string]string{}
	for _, id := range ids {
		names[id] = "#" + s.channels[id].name
		if s.channels[id].imUser != "" {
			names[id] = "Direct message from the app"
		}
	}
	s.mu.Unlock()
	var out []pageMessage
	for _, id := range ids {
		for _, m := range s.Messages(id) {
			out = append(out, pageMessage{Channel: id, TS: m.TS, Where: names[id], Edited: !m.Edited.IsZero(), Blocks: s.pageBlocks(m.Blocks, m.Text)})
		}
	}
	// newest first
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	var people []User
	for _, u := range s.Users() {
		if !u.Bot {
			people = append(people, u)
		}
	}
	as := r.URL.Query().Get("as")
	if as == "" && len(people) > 0 {
		as = people[0].ID
	}
	eph := s.Ephemerals(as)
	for i, j := 0, len(eph)-1; i < j; i, j = i+1, j-1 {
		eph[i], eph[j] = eph[j], eph[i]
	}
	data := map[string]any{
		"Team": s.opts.TeamDomain, "Command": s.opts.Command, "People": people, "As": as,
		"View": s.pageViewOf(as), "Ephemerals": eph, "Messages": s.pageMessagesOf(as),
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := pageTemplate.Execute(w, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func back(w http.ResponseWriter, r *http.Request, as string) {
	http.Redirect(w, r, "/?as="+as, http.StatusSeeOther)
}

func (s *Server) uiCommand(w http.ResponseWriter, r *http.Request) {
	as, text := r.PostFormValue("as"), r.PostFormValue("text")
	text = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), s.opts.Command))
	if _, err := s.SlashCommand(r.Context(), as, text); err != nil {
		s.addEphemeral(as, "", "error: "+err.Error())
	}
	back(w, r, as)
}

func (s *Server) uiClick(w http.ResponseWriter, r *http.Request) {
	as := r.PostFormValue("as")
	if _, err := s.Click(r.Context(), as, r.PostFormValue("channel"), r.PostFormValue("ts"), r.PostFormValue("action")); err != nil {
		s.addEphemeral(as, "", "error: "+err.Error())
	}
	back(w, r, as)
}

func (s *Server) uiSubmit(w http.ResponseWriter, r *http.Request) {
	as, viewID := r.PostFormValue("as"), r.PostFormValue("view")
	values := map[string]string{}
	for k, v := range r.PostForm {
		if name, ok := strings.CutPrefix(k, "input."); ok && len(v) > 0 {
			values[name] = v[0]
		}
	}
	if _, err := s.Submit(r.Context(), as, viewID, values); err != nil {
		s.addEphemeral(as, "", "error: "+err.Error())
	}
	back(w, r, as)
}

func (s *Server) uiClose(w http.ResponseWriter, r *http.Request) {
	as := r.PostFormValue("as")
	s.CloseView(as, r.PostFormValue("view"))
	back(w, r, as)
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
{{if not .View}}<meta http-equiv="refresh" content="5">{{end}}
<title>Simulated Slack · {{.Team}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d1c1d; max-width: 60rem; }
nav a { margin-right: .75rem; } nav a.on { font-weight: bold; }
.msg, .modal { border: 1px solid #ddd; border-radius: 6px; padding: .75rem 1rem; margin: .75rem 0; }
.modal { border-color: #1264a3; background: #f4f8fb; }
.where { color: #616061; font-size: .85rem; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: .25rem 1rem; margin: .5rem 0; }
.context { color: #616061; font-size: .9rem; }
.eph { color: #616061; font-style: italic; }
.error { color: #b00; }
button.primary { background: #007a5a; color: white; } button.danger { background: #e01e5a; color: white; }
form.inline { display: inline; }
label { display: block; margin-top: .5rem; font-weight: bold; }
small { display: block; color: #616061; }
</style>
</head>
<body>
<h1>Simulated Slack workspace <code>{{.Team}}</code></h1>
<nav>Acting as: {{range .People}}<a href="/?as={{.ID}}" {{if eq .ID $.As}}class="on"{{end}}>{{.Name}}</a>{{end}}</nav>
{{if .As}}
<form method="post" action="/ui/command">
<input type="hidden" name="as" value="{{.As}}">
<p><input name="text" size="60" placeholder="{{.Command}} prod-db 1h investigating INC-42" aria-label="slash command"> <button>Send</button></p>
</form>
{{with .View}}
<div class="modal" id="modal">
<h2>{{.Title}}</h2>
{{range .Intro}}{{template "block" .}}{{end}}
{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
<form method="post" action="/ui/submit">
<input type="hidden" name="as" value="{{$.As}}"><input type="hidden" name="view" value="{{.ID}}">
{{range .Inputs}}
<label for="in-{{.BlockID}}">{{.Label}}{{if .Optional}} (optional){{end}}</label>
{{if .Select}}<select id="in-{{.BlockID}}" name="input.{{.BlockID}}">{{$v := .Value}}{{if not $v}}<option value="">Choose…</option>{{end}}{{range .Options}}<option value="{{.Value}}" {{if eq .Value $v}}selected{{end}}>{{.Text.Text}}</option>{{end}}</select>
{{else if .Multiline}}<textarea id="in-{{.BlockID}}" name="input.{{.BlockID}}" rows="3" cols="60">{{.Value}}</textarea>
{{else}}<input id="in-{{.BlockID}}" name="input.{{.BlockID}}" value="{{.Value}}">{{end}}
{{if .Hint}}<small>{{.Hint}}</small>{{end}}
{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
{{end}}
<p><button class="primary">Submit</button></p>
</form>
<form method="post" action="/ui/close"><input type="hidden" name="as" value="{{$.As}}"><input type="hidden" name="view" value="{{.ID}}"><button>Cancel</button></form>
</div>
{{end}}
{{range .Ephemerals}}<p class="eph">Only visible to you: {{.Text}}</p>{{end}}
<h2>Messages</h2>
{{range .Messages}}{{$m := .}}
<div class="msg"><div class="where">{{.Where}} · {{.TS}}{{if .Edited}} (edited){{end}}</div>
{{range .Blocks}}{{template "block" .}}{{range .Buttons}}<form class="inline" method="post" action="/ui/click"><input type="hidden" name="as" value="{{$.As}}"><input type="hidden" name="channel" value="{{$m.Channel}}"><input type="hidden" name="ts" value="{{$m.TS}}"><input type="hidden" name="action" value="{{.ActionID}}"><button class="{{.Style}}">{{.Label}}</button></form> {{end}}{{end}}
</div>
{{else}}<p>No messages yet.</p>{{end}}
{{else}}<p>No people in the workspace.</p>{{end}}
</body>
</html>
{{define "block"}}{{if .Text}}<p>{{.Text}}</p>{{end}}{{if .Fields}}<div class="fields">{{range .Fields}}<div>{{.}}</div>{{end}}</div>{{end}}{{if .Context}}<p class="context">{{.Context}}</p>{{end}}{{end}}
`))
