/* test_xsdhint: the hint for an attribute a schema refuses where it stands -- the elements
 * declaring it, else the nearest name on the same element, else on any -- read from the XSD
 * text, the shipped schemas included. */
#include <criterion/criterion.h>
#include <string.h>

#include "embedded.h"
#include "xsdhint.h"

/* <a x y>, <b x seq>, <c points> (through the named type t: no element of its own here). */
static const char *toy =
    "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">"
    "<xs:complexType name=\"t\"><xs:attribute name=\"points\"/></xs:complexType>"
    "<xs:element name=\"root\"><xs:complexType><xs:sequence>"
    "<xs:element name=\"a\"><xs:complexType>"
    "<xs:attribute name=\"x\"/><xs:attribute name=\"micro-batch\"/>"
    "</xs:complexType></xs:element>"
    "<xs:element name=\"b\"><xs:complexType>"
    "<xs:attribute name=\"x\"/><xs:attribute name=\"seq\"/>"
    "</xs:complexType></xs:element>"
    "<xs:element name=\"c\" type=\"t\"/>"
    "</xs:sequence></xs:complexType></xs:element></xs:schema>";

static const char *hint(const char *xsd, const char *element, const char *attr)
{
    static char out[160];
    size_t n = xsdhint_attribute(xsd, element, attr, out, sizeof out);
    cr_assert_eq(n, strlen(out));
    return out;
}

Test(xsdhint, names_the_elements_that_declare_the_attribute)
{
    cr_expect_str_eq(hint(toy, "b", "micro-batch"), "it belongs on <a>");
    cr_expect_str_eq(hint(toy, "root", "x"), "it belongs on <a> or <b>");
    cr_expect_str_eq(hint(toy, "a", "seq"), "it belongs on <b>");
}

Test(xsdhint, else_the_nearest_name_on_the_element_then_anywhere)
{
    cr_expect_str_eq(hint(toy, "a", "microbatch"), "did you mean 'micro-batch'?");
    cr_expect_str_eq(hint(toy, "a", "seqq"), "did you mean 'seq' (on <b>)?");
    cr_expect_str_eq(hint(toy, "a", "unrelated"), "", "nothing near: no hint");
    cr_expect_str_eq(hint(toy, "a", "points"), "", "a named type's attribute has no element");
}

Test(xsdhint, shipped_schemas)
{
    cr_expect_str_eq(hint(scenario_xsd, "training", "moe-dispatcher"), "it belongs on <parallel>");
    cr_expect_str_eq(hint(scenario_xsd, "training", "cp-comm-type"), "it belongs on <parallel>");
    cr_expect_str_eq(hint(scenario_xsd, "pipeline", "tp"), "it belongs on <parallel>");
    cr_expect_str_eq(hint(model_xsd, "transformer", "experts"), "it belongs on <moe>");
}

Test(xsdhint, a_short_buffer_stays_terminated_and_bad_xsd_gives_none)
{
    char out[8];
    size_t n = xsdhint_attribute(toy, "b", "micro-batch", out, sizeof out);
    cr_expect_eq(n, strlen(out));
    cr_expect_str_eq(out, "it belo");
    cr_expect_eq(xsdhint_attribute("<not xml", "a", "b", out, sizeof out), 0);
    cr_expect_str_eq(out, "");
    cr_expect_eq(xsdhint_attribute(toy, "a", "x", out, 0), 0);
}
