"""FileIndex's scope of a node: the index records it only where it changes along the
parent links (leaklint/index.py, `_walk_body`), so every kind of scope boundary is
checked here, including the parts of a def or comprehension evaluated outside it."""
import libcst as cst

from leaklint.index import FileIndex, walk

SOURCE = '''\
import threading

@deco(d_outer)
def f(p=default_outer, *, q: ann_outer = None) -> ret_outer:
    body_f = [elt_comp for x in iter_outer if cond_comp for y in iter_comp]
    g = lambda a=lambda_default_outer: lambda_body
    {key_comp: value_comp for k in dict_iter_outer}

class C(base_outer):
    class_attr = class_body

    def method(self):
        return method_body
'''


def scopes_of_names(source):
    """{identifier: (kind, name) of the scope enclosing that Name load}."""
    module = cst.parse_module(source)
    index = FileIndex(module)
    found = {}
    for node in walk(module):
        if isinstance(node, cst.Name):
            scope = index.enclosing_scope(node)
            found.setdefault(node.value, (scope.kind, scope.name))
    return found


def test_every_scope_boundary_is_found_from_the_names_inside_it():
    scopes = scopes_of_names(SOURCE)
    module, function, comprehension = ("module", ""), ("function", "f"), ("comprehension", "<comprehension>")
    assert scopes["d_outer"] == module
    assert scopes["default_outer"] == module
    assert scopes["ann_outer"] == module
    assert scopes["ret_outer"] == module
    assert scopes["body_f"] == function
    # A comprehension's first iterable is evaluated in the enclosing scope, the rest inside.
    assert scopes["iter_outer"] == function
    assert scopes["elt_comp"] == comprehension
    assert scopes["cond_comp"] == comprehension
    assert scopes["iter_comp"] == comprehension
    assert scopes["dict_iter_outer"] == function
    assert scopes["key_comp"] == comprehension
    assert scopes["value_comp"] == comprehension
    assert scopes["lambda_default_outer"] == function
    assert scopes["lambda_body"] == ("lambda", "<lambda>")
    assert scopes["base_outer"] == module
    assert scopes["class_body"] == ("class", "C")
    assert scopes["method_body"] == ("function", "method")
