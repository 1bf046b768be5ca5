package slackfake

import (
	"encoding/json"
	"fmt"
)

// The Block Kit subset the workspace understands, checked against the
// Block Kit reference (https://docs.slack.dev/reference/block-kit/blocks):
// section, actions, context, divider, header and input blocks; buttons,
// static selects and plain-text inputs.

type textObject struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type option struct {
	Text        textObject  `json:"text"`
	Value       string      `json:"value"`
	Description *textObject `json:"description,omitempty"`
}

type element struct {
	Type          string      `json:"type"`
	ActionID      string      `json:"action_id"`
	Text          *textObject `json:"text,omitempty"`
	Value         string      `json:"value,omitempty"`
	Style         string      `json:"style,omitempty"`
	Options       []option    `json:"options,omitempty"`
	InitialOption *option     `json:"initial_option,omitempty"`
	InitialValue  string      `json:"initial_value,omitempty"`
	Multiline     bool        `json:"multiline,omitempty"`
	Placeholder   *textObject `json:"placeholder,omitempty"`
	MaxLength     int         `json:"max_length,omitempty"`
}

type block struct {
	Type     string          `json:"type"`
	BlockID  string          `json:"block_id"`
	Text     *textObject     `json:"text,omitempty"`
	Fields   []textObject    `json:"fields,omitempty"`
	Elements json.RawMessage `json:"elements,omitempty"`
	Element  *element        `json:"element,omitempty"`
	Label    *textObject     `json:"label,omitempty"`
	Hint     *textObject     `json:"hint,omitempty"`
	Optional bool            `json:"optional,omitempty"`
}

// buttons returns an actions block's elements.
func (b block) actionElements() []element {
	var out []element
	json.Unmarshal(b.Elements, &out)
	return out
}

// contextTexts returns a context block's text elements.
func (b block) contextTexts() []textObject {
	var out []textObject
	json.Unmarshal(b.Elements, &out)
	return out
}

func parseBlocks(raw []byte) ([]block, error) {
	var bs []block
	if err := json.Unmarshal(raw, &bs); err != nil {
		return nil, err
	}
	return bs, nil
}

func validText(t *textObject, max int) bool {
	return t != nil && (t.Type == "plain_text" || t.Type == "mrkdwn") && t.Text != "" && len([]rune(t.Text)) <= max
}

// validateBlocks returns what is wrong with a list of blocks, or "".
// inputs says whether input blocks are allowed (modals, not messages).
func validateBlocks(raw []byte, maxBlocks int, inputs bool) string {
	bs, err := parseBlocks(raw)
	if err != nil {
		return "blocks are not a JSON array of blocks"
	}
	if len(bs) > maxBlocks {
		return fmt.Sprintf("more than %d blocks", maxBlocks)
	}
	ids := map[string]bool{}
	for i, b := range bs {
		if b.BlockID != "" {
			if ids[b.BlockID] {
				return fmt.Sprintf("block_id %q repeated", b.BlockID)
			}
			ids[b.BlockID] = true
		}
		if p := validateBlock(b, inputs); p != "" {
			return fmt.Sprintf("block %d (%s): %s", i, b.Type, p)
		}
	}
	return ""
}

func validateBlock(b block, inputs bool) string {
	switch b.Type {
	case "section":
		if b.Text == nil && len(b.Fields) == 0 {
			return "a section needs text or fields"
		}
		if b.Text != nil && !validText(b.Text, 3000) || len(b.Fields) > 10 {
			return "section text over 3000 characters or more than 10 fields"
		}
		for _, f := range b.Fields {
			if !validText(&f, 2000) {
				return "field empty or over 2000 characters"
			}
		}
	case "actions":
		els := b.actionElements()
		if len(els) == 0 || len(els) > 25 {
			return "an actions block needs 1 to 25 elements"
		}
		for _, e := range els {
			if p := validateElement(e); p != "" {
				return p
			}
		}
	case "context":
		if n := len(b.contextTexts()); n == 0 || n > 10 {
			return "a context block needs 1 to 10 elements"
		}
	case "divider":
	case "header":
		if b.Text == nil || b.Text.Type != "plain_text" || !validText(b.Text, 150) {
			return "a header needs plain_text up to 150 characters"
		}
	case "input":
		if !inputs {
			return "input blocks belong in modals"
		}
		if !validText(b.Label, 2000) || b.Label.Type != "plain_text" || b.Element == nil {
			return "an input needs a plain_text label and an element"
		}
		return validateElement(*b.Element)
	default:
		return "unknown block type"
	}
	return ""
}

func validateElement(e element) string {
	if len(e.ActionID) > 255 {
		return "action_id over 255 characters"
	}
	switch e.Type {
	case "button":
		if !validText(e.Text, 75) || e.Text.Type != "plain_text" || len(e.Value) > 2000 {
			return "a button needs plain_text up to 75 characters and a value up to 2000"
		}
	case "static_select":
		if len(e.Options) == 0 || len(e.Options) > 100 {
			return "a static select needs 1 to 100 options"
		}
		for _, o := range e.Options {
			if o.Value == "" || len(o.Value) > 150 || !validText(&o.Text, 75) {
				return "an option needs text up to 75 characters and a value up to 150"
			}
		}
	case "plain_text_input":
	default:
		return "unsupported element " + e.Type
	}
	return ""
}

// modal is what views.open checks in a view.
type modal struct {
	Type            string          `json:"type"`
	Title           *textObject     `json:"title"`
	Submit          *textObject     `json:"submit"`
	Blocks          json.RawMessage `json:"blocks"`
	CallbackID      string          `json:"callback_id"`
	PrivateMetadata string          `json:"private_metadata"`
}

// parseModal checks a view as views.open does (Block Kit reference,
// "Modal view": title and submit plain_text up to 24 characters, submit
// required with input blocks, at most 100 blocks, callback_id up to 255,
// private_metadata up to 3000 characters).
func parseModal(raw []byte) (*View, string) {
	var m modal
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, "view is not a JSON object"
	}
	switch {
	case m.Type != "modal":
		return nil, "view type must be modal"
	case !validText(m.Title, 24) || m.Title.Type != "plain_text":
		return nil, "title must be plain_text up to 24 characters"
	case m.Submit != nil && !validText(m.Submit, 24):
		return nil, "submit must be plain_text up to 24 characters"
	case len(m.CallbackID) > 255, len(m.PrivateMetadata) > 3000:
		return nil, "callback_id over 255 or private_metadata over 3000 characters"
	}
	if p := validateBlocks(m.Blocks, 100, true); p != "" {
		return nil, p
	}
	bs, _ := parseBlocks(m.Blocks)
	for _, b := range bs {
		if b.Type == "input" && m.Submit == nil {
			return nil, "a modal with inputs needs a submit button"
		}
	}
	return &View{CallbackID: m.CallbackID, PrivateMetadata: m.PrivateMetadata, Title: m.Title.Text}, ""
}
