/* test-ui-fr.c: the editor in French. Under Xvfb with LANGUAGE=fr and the
 * catalogue built in the build tree (po/fr/LC_MESSAGES/gradus.mo), the main
 * window's header bar, menus, palette, inspector, run panel and a refusal
 * toast show the French strings of po/fr.po, and no visible string of the
 * window is an English message left untranslated.
 *
 * Two checks on every visible text (labels, tooltips, placeholders, menu
 * labels): it must not be an English msgid of po/fr.po whose French differs
 * (a string marked but shown without _()), and it must be a French string of
 * po/fr.po (formats matched as patterns), a toolkit string, or data (op and
 * node kind names, numbers) - which catches strings never marked at all. */
#include "gradus-window.h"
#include "gradus-run-panel.h"
#include "gradus.h"

#include "ui-test-util.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#define SPIN_UNTIL(cond) UI_TEST_SPIN_UNTIL (cond, 5)

/* msgid -> msgstr of po/fr.po (the singular form of plural entries). */
static GHashTable *fr_by_msgid;
/* French strings, and GPatternSpecs for those with conversions. */
static GHashTable *fr_strings;
static GPtrArray  *fr_patterns;

/* ------------------------------------------------------------ po/fr.po */

/* The C string of a PO line's quoted part: "a\"b\n" -> a"b<newline>. */
static void
append_quoted (GString *out, const char *line)
{
  const char *p = strchr (line, '"');
  if (!p)
    return;
  for (p++; *p && *p != '"'; p++) {
    if (*p == '\\' && p[1]) {
      p++;
      g_string_append_c (out, *p == 'n' ? '\n' : *p == 't' ? '\t' : *p);
    } else {
      g_string_append_c (out, *p);
    }
  }
}

/* "Appel %lld : %s" -> "Appel * : *". */
static GPatternSpec *
format_pattern (const char *msgstr)
{
  GString *glob = g_string_new (NULL);
  for (const char *p = msgstr; *p; p++) {
    if (*p != '%') {
      g_string_append_c (glob, *p);
      continue;
    }
    if (p[1] == '%') {
      g_string_append_c (glob, '%');
      p++;
      continue;
    }
    p++;
    while (*p && strchr ("-+ #0123456789.lhzjt", *p))
      p++;
    if (!*p)
      break;
    g_string_append_c (glob, '*');
  }
  GPatternSpec *spec = g_pattern_spec_new (glob->str);
  g_string_free (glob, TRUE);
  return spec;
}

static void
add_entry (const char *msgid, const char *msgstr)
{
  if (!*msgid || !*msgstr)
    return;  /* the header */
  g_hash_table_insert (fr_by_msgid, g_strdup (msgid), g_strdup (msgstr));
  g_hash_table_add (fr_strings, g_strdup (msgstr));
  if (strchr (msgstr, '%'))
    g_ptr_array_add (fr_patterns, format_pattern (msgstr));
}

static void
load_po (const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  g_assert_no_error (error);
  fr_by_msgid = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  fr_strings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  fr_patterns = g_ptr_array_new_with_free_func ((GDestroyNotify) g_pattern_spec_free);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GString *id = g_string_new (NULL), *str = g_string_new (NULL), *plural = g_string_new (NULL);
  GString *cur = NULL;
  for (char **l = lines; ; l++) {
    const char *line = *l ? *l : "";
    gboolean starts = !*l || g_str_has_prefix (line, "msgid ") || g_str_has_prefix (line, "msgctxt ");
    if (starts && (id->len || str->len)) {
      add_entry (id->str, str->str);
      if (plural->len)
        add_entry (plural->str, str->str);
      g_string_truncate (id, 0);
      g_string_truncate (str, 0);
      g_string_truncate (plural, 0);
      cur = NULL;
    }
    if (!*l)
      break;
    if (g_str_has_prefix (line, "msgid "))
      cur = id;
    else if (g_str_has_prefix (line, "msgid_plural "))
      cur = plural;
    else if (g_str_has_prefix (line, "msgstr ") || g_str_has_prefix (line, "msgstr[0] "))
      cur = str;
    else if (g_str_has_prefix (line, "msgstr["))
      cur = NULL;  /* other plural forms: the first one is enough to recognise */
    else if (g_str_has_prefix (line, "msgctxt "))
      cur = NULL;
    else if (line[0] != '"')
      continue;
    if (cur)
      append_quoted (cur, line);
  }
  g_string_free (id, TRUE);
  g_string_free (str, TRUE);
  g_string_free (plural, TRUE);
  g_assert_cmpuint (g_hash_table_size (fr_by_msgid), >=, 100);
}

static gboolean
is_french_string (const char *s)
{
  if (g_hash_table_contains (fr_strings, s))
    return TRUE;
  for (guint i = 0; i < fr_patterns->len; i++)
    if (g_pattern_spec_match_string (fr_patterns->pdata[i], s))
      return TRUE;
  return FALSE;
}

/* Names that are data, the same in every language: ops, node kinds, dtypes,
 * numbers, the program's name. */
static gboolean
is_data (const char *s)
{
  static const char *const words[] = { "Gradus", "variable", "constant", "shared", "grad",
                                       "float32", "float64", "int32", "int64", "bool", "CPU",
                                       "Vulkan", NULL };
  if (g_strv_contains (words, s) || grd_op_exists (s))
    return TRUE;
  for (const char *p = s; *p; p++)
    if (g_ascii_isalpha (*p))
      return FALSE;
  return TRUE;
}

/* A string of GTK's or libadwaita's own (their catalogues translate them). */
static gboolean
is_toolkit_string (const char *s)
{
  static const char *const domains[] = { "gtk40", "libadwaita", NULL };
  /* What the toolkit's widgets show by themselves, in their own catalogue. */
  static const char *const shown[] = { "(None)", "Clear entry", "Close", "Dismiss", NULL };
  for (const char *const *d = domains; *d; d++) {
    if (g_strcmp0 (g_dgettext (*d, s), s) != 0)
      return TRUE;
    for (const char *const *m = shown; *m; m++)
      if (g_str_equal (g_dgettext (*d, *m), s))
        return TRUE;
  }
  return FALSE;
}

/* ------------------------------------------------------------ collecting */

typedef struct {
  GPtrArray *texts;     /* char*, each "where: text" is in places */
  GPtrArray *places;
} Seen;

static void
seen_add (Seen *seen, const char *where, const char *text)
{
  if (!text || !*text)
    return;
  g_ptr_array_add (seen->texts, g_strdup (text));
  g_ptr_array_add (seen->places, g_strdup (where));
}

static void
collect_menu (Seen *seen, GMenuModel *menu)
{
  for (gint i = 0; i < g_menu_model_get_n_items (menu); i++) {
    g_autofree char *label = NULL;
    g_autofree char *action = NULL;
    g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_ACTION, "s", &action);
    /* The examples and recent files: file names, data. */
    gboolean file = g_strcmp0 (action, "win.open-path") == 0;
    if (!file && g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_LABEL, "s", &label))
      seen_add (seen, "menu item", label);
    g_autoptr (GMenuModel) section = g_menu_model_get_item_link (menu, i, G_MENU_LINK_SECTION);
    if (section)
      collect_menu (seen, section);
    g_autoptr (GMenuModel) sub = g_menu_model_get_item_link (menu, i, G_MENU_LINK_SUBMENU);
    if (sub)
      collect_menu (seen, sub);
  }
}

static void
collect (Seen *seen, GtkWidget *w)
{
  if (!gtk_widget_get_visible (w))
    return;
  /* A search entry: its placeholder; its clear icon's tooltip is GTK's. */
  if (GTK_IS_SEARCH_ENTRY (w)) {
    g_autofree char *placeholder = NULL;
    g_object_get (w, "placeholder-text", &placeholder, NULL);
    seen_add (seen, "placeholder", placeholder);
    return;
  }
  const char *type = G_OBJECT_TYPE_NAME (w);
  if (GTK_IS_LABEL (w))
    seen_add (seen, type, gtk_label_get_text (GTK_LABEL (w)));
  if (GTK_IS_BUTTON (w) && gtk_button_get_label (GTK_BUTTON (w)))
    seen_add (seen, type, gtk_button_get_label (GTK_BUTTON (w)));
  if (GTK_IS_CHECK_BUTTON (w) && gtk_check_button_get_label (GTK_CHECK_BUTTON (w)))
    seen_add (seen, type, gtk_check_button_get_label (GTK_CHECK_BUTTON (w)));
  seen_add (seen, "tooltip", gtk_widget_get_tooltip_text (w));
  if (GTK_IS_TEXT (w))
    seen_add (seen, "placeholder", gtk_text_get_placeholder_text (GTK_TEXT (w)));
  if (GTK_IS_MENU_BUTTON (w) && gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (w)))
    collect_menu (seen, gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (w)));
  if (ADW_IS_WINDOW_TITLE (w)) {
    seen_add (seen, "window title", adw_window_title_get_title (ADW_WINDOW_TITLE (w)));
    seen_add (seen, "window subtitle", adw_window_title_get_subtitle (ADW_WINDOW_TITLE (w)));
  }
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    collect (seen, c);
}

/* Every visible text of the window passes both checks; returns how many
 * texts were looked at. */
static guint
check_window_texts (GradusWindow *w)
{
  Seen seen = { g_ptr_array_new_with_free_func (g_free), g_ptr_array_new_with_free_func (g_free) };
  collect (&seen, GTK_WIDGET (w));
  g_autoptr (GString) bad = g_string_new (NULL);
  guint n_french = 0;
  for (guint i = 0; i < seen.texts->len; i++) {
    const char *t = seen.texts->pdata[i];
    if (g_str_has_prefix (t, "• "))
      t += strlen ("• ");  /* the title of a modified document */
    const char *where = seen.places->pdata[i];
    /* Op names are data even where a word is also a message ("shape"). */
    if (is_data (t))
      continue;
    const char *fr = g_hash_table_lookup (fr_by_msgid, t);
    if (fr && !g_str_equal (fr, t)) {
      g_string_append_printf (bad, "\n  untranslated (%s): \"%s\", French \"%s\"", where, t, fr);
      continue;
    }
    /* Headings capitalise their first letter ("Arithmétique"). */
    g_autofree char *lowered = g_strdup (t);
    lowered[0] = g_ascii_tolower (lowered[0]);
    if (is_french_string (t) || is_french_string (lowered)) {
      n_french++;
      continue;
    }
    /* A palette row's tooltip: the op's name, then French. */
    const char *nl = strchr (t, '\n');
    if (nl && is_french_string (nl + 1))
      continue;
    if (is_data (t) || is_data (lowered) || is_toolkit_string (t))
      continue;
    g_string_append_printf (bad, "\n  not a French string of po/fr.po (%s): \"%s\"", where, t);
  }
  if (bad->len)
    g_test_message ("%u texts, of them:%s", seen.texts->len, bad->str);
  g_assert_cmpstr (bad->str, ==, "");
  g_assert_cmpuint (n_french, >=, 20);
  guint n = seen.texts->len;
  g_ptr_array_unref (seen.texts);
  g_ptr_array_unref (seen.places);
  return n;
}

/* The text of every GtkLabel, GtkButton label and tooltip under w. */
static gboolean
shows_text (GtkWidget *w, const char *text)
{
  if (GTK_IS_LABEL (w) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (w)), text) == 0)
    return TRUE;
  if (GTK_IS_BUTTON (w) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (w)), text) == 0)
    return TRUE;
  if (g_strcmp0 (gtk_widget_get_tooltip_text (w), text) == 0)
    return TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    if (shows_text (c, text))
      return TRUE;
  return FALSE;
}

static gboolean
menu_has_label (GMenuModel *menu, const char *text)
{
  for (gint i = 0; i < g_menu_model_get_n_items (menu); i++) {
    g_autofree char *label = NULL;
    if (g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_LABEL, "s", &label) &&
        g_str_equal (label, text))
      return TRUE;
    g_autoptr (GMenuModel) section = g_menu_model_get_item_link (menu, i, G_MENU_LINK_SECTION);
    if (section && menu_has_label (section, text))
      return TRUE;
    g_autoptr (GMenuModel) sub = g_menu_model_get_item_link (menu, i, G_MENU_LINK_SUBMENU);
    if (sub && menu_has_label (sub, text))
      return TRUE;
  }
  return FALSE;
}

static gboolean
window_menus_have (GtkWidget *w, const char *text)
{
  if (GTK_IS_MENU_BUTTON (w) && gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (w)) &&
      menu_has_label (gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (w)), text))
    return TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    if (window_menus_have (c, text))
      return TRUE;
  return FALSE;
}

static GtkWidget *
find_type (GtkWidget *w, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (w, type))
    return w;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c)) {
    GtkWidget *f = find_type (c, type);
    if (f)
      return f;
  }
  return NULL;
}

/* ------------------------------------------------------------ tests */

static GradusWindow *
new_window (void)
{
  GradusWindow *w = gradus_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (w), 1200, 800);
  gtk_window_present (GTK_WINDOW (w));
  SPIN_UNTIL (gtk_widget_get_mapped (GTK_WIDGET (w)));
  ui_test_spin (100);
  return w;
}

static void
test_catalogue_found (void)
{
  /* The build tree's catalogue is the one read, and it is French. */
  g_assert_cmpstr (_("Undo"), ==, "Annuler");
  g_assert_cmpstr (ngettext ("Gradus stopped without saving %u graph. Restore it?",
                             "Gradus stopped without saving %u graphs. Restore them?", 2), ==,
                   "Gradus s’est arrêté sans enregistrer %u graphes. Les restaurer ?");
}

static void
test_main_window (void)
{
  GradusWindow *w = new_window ();
  GtkWidget *win = GTK_WIDGET (w);

  /* Header bar: the subtitle of a new graph and the buttons' tooltips. */
  AdwWindowTitle *title = ADW_WINDOW_TITLE (find_type (win, ADW_TYPE_WINDOW_TITLE));
  g_assert_nonnull (title);
  g_assert_cmpstr (adw_window_title_get_subtitle (title), ==, "Pas encore enregistré");
  g_assert_true (shows_text (win, "Annuler (Ctrl+Z)"));
  g_assert_true (shows_text (win, "Ouvrir un graphe (Ctrl+O)"));
  g_assert_true (shows_text (win, "Menu principal (F10)"));
  g_assert_false (shows_text (win, "Undo (Ctrl+Z)"));

  /* The main and export menus. */
  g_assert_true (window_menus_have (win, "_Ouvrir…"));
  g_assert_true (window_menus_have (win, "Enregistrer _sous…"));
  g_assert_true (window_menus_have (win, "À _propos de Gradus"));
  g_assert_true (window_menus_have (win, "Image (_PNG)…"));
  g_assert_false (window_menus_have (win, "_Open…"));

  /* Palette and inspector. */
  GtkWidget *search = find_type (GTK_WIDGET (gradus_window_get_palette (w)), GTK_TYPE_TEXT);
  g_assert_nonnull (search);
  g_assert_cmpstr (gtk_text_get_placeholder_text (GTK_TEXT (search)), ==, "Chercher des ops");
  g_assert_true (shows_text (GTK_WIDGET (gradus_window_get_palette (w)), "Arithmétique"));
  g_assert_true (shows_text (GTK_WIDGET (gradus_window_get_inspector (w)), "Aucun nœud sélectionné"));
  g_assert_cmpstr (adw_window_title_get_title (title), ==, "Sans titre");

  /* The run panel's buttons, settings and expanders. */
  GtkWidget *run = gradus_window_get_run_panel (w);
  g_assert_true (shows_text (run, "Exécuter"));
  g_assert_true (shows_text (run, "Un appel"));
  g_assert_true (shows_text (run, "Réinitialiser"));
  g_assert_true (shows_text (run, "Appeler la fonction une fois"));
  g_assert_true (shows_text (run, "Appels"));
  g_assert_true (shows_text (run, "Garde NaN"));
  g_assert_true (shows_text (run, "Alimentations"));
  g_assert_false (shows_text (run, "Run"));

  /* The canvas' accessible name. */
  g_autofree char *acc = gtk_test_accessible_check_property (
      GTK_ACCESSIBLE (gradus_window_get_canvas (w)), GTK_ACCESSIBLE_PROPERTY_LABEL, "Canevas du graphe");
  g_assert_null (acc);

  guint n = check_window_texts (w);
  g_test_message ("%u visible texts checked", n);
  gtk_window_destroy (GTK_WINDOW (w));
  ui_test_spin (20);
}

static void
test_refusal_toast (void)
{
  GradusWindow *w = new_window ();
  /* A refused node kind: the toast says why, in French. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (w), "win.add-node", "s", "nosuchop"));
  ui_test_spin (50);
  g_assert_cmpstr (gradus_window_get_last_message (w), ==, "Sorte de nœud ou op inconnue « nosuchop »");
  SPIN_UNTIL (shows_text (GTK_WIDGET (w), "Sorte de nœud ou op inconnue « nosuchop »"));
  g_assert_true (shows_text (GTK_WIDGET (w), "Sorte de nœud ou op inconnue « nosuchop »"));

  /* A refused wire (a cycle), from the document model. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (w), "win.add-node", "s", "op:neg"));
  ui_test_spin (50);
  g_auto (GStrv) sel = gradus_canvas_dup_selection (gradus_window_get_canvas (w));
  g_assert_cmpuint (g_strv_length (sel), ==, 1);
  g_autofree char *self_loop = g_strdup_printf ("%s %s 0", sel[0], sel[0]);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (w), "win.connect", "s", self_loop));
  ui_test_spin (50);
  g_autofree char *cycle = g_strdup_printf ("impossible de relier %s à lui-même : cela créerait un cycle", sel[0]);
  g_assert_cmpstr (gradus_window_get_last_message (w), ==, cycle);
  SPIN_UNTIL (shows_text (GTK_WIDGET (w), cycle));
  g_assert_true (shows_text (GTK_WIDGET (w), cycle));

  /* A selected node: the inspector's fields in French too. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (w), "win.add-node", "s", "variable"));
  ui_test_spin (50);
  GtkWidget *insp = GTK_WIDGET (gradus_window_get_inspector (w));
  SPIN_UNTIL (shows_text (insp, "Forme"));
  g_assert_true (shows_text (insp, "Forme"));
  g_assert_true (shows_text (insp, "Entrée de la fonction"));
  check_window_texts (w);

  /* Undo: the message names the edit in French. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (w), "win.undo", NULL));
  ui_test_spin (20);
  g_assert_true (g_str_has_prefix (gradus_window_get_last_message (w), "Annulé : "));

  gtk_window_destroy (GTK_WINDOW (w));
  ui_test_spin (20);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  const char *locales = g_getenv ("GRADUS_BUILD_LOCALEDIR");
  const char *source = g_getenv ("GRADUS_SOURCE_DIR");
  if (!locales || !source) {
    g_printerr ("test-ui-fr: GRADUS_BUILD_LOCALEDIR and GRADUS_SOURCE_DIR must be set (meson test does)\n");
    return 1;
  }
  bindtextdomain ("gradus", locales);
  bind_textdomain_codeset ("gradus", "UTF-8");
  textdomain ("gradus");
  g_test_init (&argc, &argv, NULL);
  adw_init ();
  g_autofree char *po = g_build_filename (source, "po", "fr.po", NULL);
  load_po (po);
  g_test_add_func ("/po/ui-fr/catalogue-found", test_catalogue_found);
  g_test_add_func ("/po/ui-fr/main-window", test_main_window);
  g_test_add_func ("/po/ui-fr/refusal-toast", test_refusal_toast);
  int status = g_test_run ();
  g_hash_table_unref (fr_by_msgid);
  g_hash_table_unref (fr_strings);
  g_ptr_array_unref (fr_patterns);
  return status;
}
