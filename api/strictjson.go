package api

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// decodeStrict reads one JSON object into v the strict way, so a typo never
// goes unnoticed: member names match their field exactly (case included),
// a name given twice, an unknown name, invalid UTF-8 (also as an unpaired
// \u surrogate escape), a number with a fraction for a whole-number field
// and anything after the object are all refused. The error's text names
// the member and says what is wrong; it is meant for the API client.
func decodeStrict(body []byte, v any) error {
	err := jsonv2.Unmarshal(body, v, jsonv2.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	return errors.New(describeStrict(err, v))
}

// describeStrict turns a decoding error into a message for the client.
func describeStrict(err error, v any) string {
	var se *jsontext.SyntacticError
	var me *jsonv2.SemanticError
	switch {
	case errors.As(err, &se):
		at := memberPath(se.JSONPointer)
		switch {
		case errors.Is(se.Err, jsontext.ErrDuplicateName):
			return fmt.Sprintf("%s: given twice; each key may appear once", at)
		case strings.Contains(se.Err.Error(), "invalid UTF-8"), strings.Contains(se.Err.Error(), "surrogate"):
			return fmt.Sprintf("%s: must be valid UTF-8 (a raw byte or an unpaired \\u surrogate was sent at byte %d)", at, se.ByteOffset)
		case strings.Contains(se.Err.Error(), "unexpected EOF"):
			return "body is not valid JSON: it ends too early"
		case strings.Contains(se.Err.Error(), "after top-level value"):
			return "body: extra data after the JSON object"
		}
		return fmt.Sprintf("body is not valid JSON at byte %d: %v", se.ByteOffset, se.Err)
	case errors.As(err, &me):
		at := memberPath(me.JSONPointer)
		if errors.Is(me.Err, jsonv2.ErrUnknownName) {
			if want := caseMatch(v, me.JSONPointer); want != "" {
				return fmt.Sprintf("%s: unknown field; keys are case-sensitive, did you mean %q?", at, want)
			}
			return at + ": unknown field"
		}
		if me.JSONPointer == "" && me.JSONKind != '{' {
			return "body must be a JSON object, got " + kindName(me.JSONKind)
		}
		want := goKind(me.GoType)
		got := kindName(me.JSONKind)
		if me.JSONKind == '0' {
			got = "the number " + string(me.JSONValue)
			if want == "a whole number" && !strings.ContainsAny(string(me.JSONValue), ".eE") {
				return fmt.Sprintf("%s: %s is out of range", at, me.JSONValue)
			}
		}
		return fmt.Sprintf("%s: must be %s, got %s", at, want, got)
	}
	return "body: " + err.Error()
}

// memberPath writes a JSON pointer the way the API names fields:
// input.type, or body for the whole document.
func memberPath(p jsontext.Pointer) string {
	if p == "" {
		return "body"
	}
	var parts []string
	for tok := range p.Tokens() {
		parts = append(parts, tok)
	}
	return strings.Join(parts, ".")
}

// caseMatch returns the field name that matches the pointer's last name
// without regard to case, in the struct the pointer leads to within v.
func caseMatch(v any, p jsontext.Pointer) string {
	t := reflect.TypeOf(v)
	var toks []string
	for tok := range p.Tokens() {
		toks = append(toks, tok)
	}
	if len(toks) == 0 {
		return ""
	}
	for _, tok := range toks[:len(toks)-1] {
		t = structOf(t)
		if t == nil {
			return ""
		}
		f, ok := fieldByJSONName(t, tok)
		if !ok {
			return ""
		}
		t = f.Type
	}
	t = structOf(t)
	if t == nil {
		return ""
	}
	last := toks[len(toks)-1]
	for field := range t.Fields() {
		name := jsonName(field)
		if name != "" && strings.EqualFold(name, last) {
			return name
		}
	}
	return ""
}

func structOf(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	return t
}

func fieldByJSONName(t reflect.Type, name string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		if jsonName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func jsonName(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if tag == "-" {
		return ""
	}
	if tag == "" {
		return f.Name
	}
	return tag
}

func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 'f', 't':
		return "true or false"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "something else"
}

func goKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "something else"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return t.Kind().String()
}
