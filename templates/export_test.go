package templates

import (
	"strings"
	"text/template/parse"
)

// Fields lists the field chains (Obligation.DueAt, Scope.Subjects, System) that template name
// reads in lang, through the blocks it calls.
func Fields(name, lang string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]bool{}
	var walk func(n parse.Node)
	block := func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		t := sets[lang].Lookup(name)
		if t == nil || t.Tree == nil {
			return
		}
		walk(t.Tree.Root)
	}
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case nil:
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.FieldNode:
			out[strings.Join(n.Ident, ".")] = true
		case *parse.ChainNode:
			walk(n.Node)
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			walk(n.Pipe)
			block(n.Name)
		}
	}
	block(name + ".tmpl")
	return out
}
