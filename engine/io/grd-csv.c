/* grd-csv.c: CSV tables of numbers for data-set feeds.
 *
 * The fields stay text until columns are asked for, so a table may hold
 * columns that are not numbers (names, labels) as long as no one selects them.
 * Line numbers are those of the file (1-based); column indices are 0-based, as
 * in the "columns" of a feed. */
#include "../grd-internal.h"

#include <math.h>
#include <string.h>

typedef struct {
  gint    line;
  char  **fields;   /* n_columns strings */
} Row;

struct _GrdCsv {
  char   *name;
  gint    n_columns;
  char  **header;   /* NULL without a header row */
  GArray *rows;     /* Row */
};

static void
row_clear (gpointer p)
{
  g_strfreev (((Row *) p)->fields);
}

void
grd_csv_free (GrdCsv *csv)
{
  if (!csv)
    return;
  g_free (csv->name);
  g_strfreev (csv->header);
  g_array_unref (csv->rows);
  g_free (csv);
}

/* Splits one record starting at *p; advances past its line end. Quoted
 * fields may span lines (*line counts them). */
static GPtrArray *
split_record (const char **p, const char *end, gint *line, const char *name, GError **error)
{
  GPtrArray *fields = g_ptr_array_new_with_free_func (g_free);
  GString *f = g_string_new (NULL);
  const char *s = *p;
  gint start_line = *line;
  for (;;) {
    gboolean quoted = FALSE;
    while (s < end && (*s == ' ' || *s == '\t'))
      s++;
    if (s < end && *s == '"') {
      quoted = TRUE;
      s++;
      for (;;) {
        if (s >= end) {
          g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                       "%s: line %d: a quoted field is not closed", name, start_line);
          g_string_free (f, TRUE);
          g_ptr_array_unref (fields);
          return NULL;
        }
        if (*s == '"') {
          if (s + 1 < end && s[1] == '"') {
            g_string_append_c (f, '"');
            s += 2;
            continue;
          }
          s++;
          break;
        }
        if (*s == '\n')
          (*line)++;
        g_string_append_c (f, *s++);
      }
      while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
        s++;
      if (s < end && *s != ',' && *s != '\n') {
        g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                     "%s: line %d, column %u: text after a closing quote", name, *line,
                     fields->len);
        g_string_free (f, TRUE);
        g_ptr_array_unref (fields);
        return NULL;
      }
    } else {
      while (s < end && *s != ',' && *s != '\n')
        g_string_append_c (f, *s++);
    }
    if (!quoted)
      g_strstrip (f->str), g_string_set_size (f, strlen (f->str));
    g_ptr_array_add (fields, g_strdup (f->str));
    g_string_truncate (f, 0);
    if (s < end && *s == ',') {
      s++;
      continue;
    }
    if (s < end)
      s++;  /* the newline */
    break;
  }
  g_string_free (f, TRUE);
  *p = s;
  (*line)++;
  return fields;
}

static gboolean
line_is_blank (const char *s, const char *end)
{
  for (; s < end && *s != '\n'; s++)
    if (!g_ascii_isspace (*s))
      return FALSE;
  return TRUE;
}

GrdCsv *
grd_csv_parse (const char *data, gsize length, const char *name, gboolean header, GError **error)
{
  g_autoptr (GrdCsv) csv = g_new0 (GrdCsv, 1);
  csv->name = g_strdup (name ? name : "<data>");
  csv->rows = g_array_new (FALSE, FALSE, sizeof (Row));
  g_array_set_clear_func (csv->rows, row_clear);
  csv->n_columns = -1;
  const char *p = data, *end = data + length;
  gint line = 1;
  if (length >= 3 && memcmp (p, "\xef\xbb\xbf", 3) == 0)
    p += 3;  /* a UTF-8 byte order mark, as spreadsheets write */
  while (p < end) {
    if (line_is_blank (p, end)) {
      while (p < end && *p != '\n')
        p++;
      if (p < end)
        p++;
      line++;
      continue;
    }
    gint at = line;
    GPtrArray *fields = split_record (&p, end, &line, csv->name, error);
    if (!fields)
      return NULL;
    if (csv->n_columns < 0) {
      csv->n_columns = fields->len;
    } else if ((gint) fields->len != csv->n_columns) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                   "%s: line %d has %u columns, the lines before have %d", csv->name, at,
                   fields->len, csv->n_columns);
      g_ptr_array_unref (fields);
      return NULL;
    }
    g_ptr_array_add (fields, NULL);
    char **strv = (char **) g_ptr_array_free (fields, FALSE);
    if (header && !csv->header) {
      csv->header = strv;
      continue;
    }
    Row r = { at, strv };
    g_array_append_val (csv->rows, r);
  }
  if (csv->n_columns < 0)
    csv->n_columns = 0;
  return g_steal_pointer (&csv);
}

GrdCsv *
grd_csv_load (const char *path, gboolean header, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, &contents, &len, &local)) {
    g_set_error (error, GRD_ERROR, GRD_ERROR_IO, "%s", local->message);
    return NULL;
  }
  return grd_csv_parse (contents, len, path, header, error);
}

gint
grd_csv_n_rows (GrdCsv *csv)
{
  return csv->rows->len;
}

gint
grd_csv_n_columns (GrdCsv *csv)
{
  return csv->n_columns;
}

gint
grd_csv_find_column (GrdCsv *csv, const char *name)
{
  for (gint i = 0; csv->header && i < csv->n_columns; i++)
    if (g_strcmp0 (csv->header[i], name) == 0)
      return i;
  return -1;
}

static gboolean
parse_field (const char *s, GrdDType dtype, double *dv, gint64 *iv)
{
  char *end = NULL;
  if (*s == '\0')
    return FALSE;
  if (dtype == GRD_DTYPE_BOOL) {
    if (g_ascii_strcasecmp (s, "true") == 0) {
      *iv = 1;
      return TRUE;
    }
    if (g_ascii_strcasecmp (s, "false") == 0) {
      *iv = 0;
      return TRUE;
    }
  }
  if (!grd_dtype_is_float (dtype)) {
    gint64 v = g_ascii_strtoll (s, &end, 10);
    if (*end == '\0') {
      *iv = v;
      *dv = (double) v;
      return dtype != GRD_DTYPE_BOOL || v == 0 || v == 1;
    }
  }
  double d = g_ascii_strtod (s, &end);
  if (*end != '\0')
    return FALSE;
  *dv = d;
  if (!grd_dtype_is_float (dtype)) {
    if (d != floor (d) || !(d >= -9.2e18 && d <= 9.2e18))
      return FALSE;
    *iv = (gint64) d;
    return dtype != GRD_DTYPE_BOOL || d == 0 || d == 1;
  }
  return TRUE;
}

GrdTensor *
grd_csv_columns (GrdCsv *csv, const gint *columns, gint n_columns, gboolean one_d, GrdDType dtype,
                 GError **error)
{
  g_return_val_if_fail (!one_d || n_columns == 1, NULL);
  for (gint c = 0; c < n_columns; c++)
    if (columns[c] < 0 || columns[c] >= csv->n_columns) {
      g_set_error (error, GRD_ERROR, GRD_ERROR_VALUE, "%s: column %d does not exist (%d columns)",
                   csv->name, columns[c], csv->n_columns);
      return NULL;
    }
  gint64 shape[2] = { csv->rows->len, n_columns };
  g_autoptr (GrdTensor) t = grd_tensor_new (dtype, one_d ? 1 : 2, shape);
  for (guint r = 0; r < csv->rows->len; r++) {
    Row *row = &g_array_index (csv->rows, Row, r);
    for (gint c = 0; c < n_columns; c++) {
      const char *s = row->fields[columns[c]];
      double dv = 0;
      gint64 iv = 0;
      if (!parse_field (s, dtype, &dv, &iv)) {
        g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                     "%s: line %d, column %d%s%s%s: \"%s\" is not a%s %s", csv->name, row->line,
                     columns[c], csv->header ? " ('" : "", csv->header ? csv->header[columns[c]] : "",
                     csv->header ? "')" : "", s, dtype == GRD_DTYPE_INT32 || dtype == GRD_DTYPE_INT64 ? "n" : "",
                     dtype == GRD_DTYPE_BOOL ? "bool (0, 1, true, false)"
                     : grd_dtype_is_float (dtype) ? "number" : "integer");
        return NULL;
      }
      gint64 i = (gint64) r * n_columns + c;
      switch (dtype) {
      case GRD_DTYPE_INT64: ((gint64 *) t->data)[i] = iv; break;
      case GRD_DTYPE_INT32:
        if (iv < G_MININT32 || iv > G_MAXINT32) {
          g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                       "%s: line %d, column %d: %s is out of the int32 range", csv->name,
                       row->line, columns[c], s);
          return NULL;
        }
        ((gint32 *) t->data)[i] = (gint32) iv;
        break;
      case GRD_DTYPE_BOOL: ((guint8 *) t->data)[i] = iv != 0; break;
      default: grd_tensor_set (t, i, dv); break;
      }
    }
  }
  return g_steal_pointer (&t);
}
