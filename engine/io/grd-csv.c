/* grd-csv.c: CSV tables of numbers for data-set feeds.
 *
 * The fields stay text until columns are asked for, so a table may hold
 * columns that are not numbers (names, labels) as long as no one selects them.
 * Line numbers are those of the file (1-based); column indices are 0-based, as
 * in the "columns" of a feed. */
#include "../grd-internal.h"

#include <errno.h>
#include <float.h>
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
  return grd_csv_load_limited (path, header, NULL, error);
}

GrdCsv *
grd_csv_load_limited (const char *path, gboolean header, const GrdLimits *limits, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  if (!grd_data_read (path, limits, &contents, &len, error))
    return NULL;
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

typedef enum {
  FIELD_OK,
  FIELD_BAD,        /* not a number (or not a bool) */
  FIELD_RANGE,      /* a number the dtype cannot hold */
} FieldStatus;

static FieldStatus
parse_field (const char *s, GrdDType dtype, double *dv, gint64 *iv)
{
  char *end = NULL;
  if (*s == '\0')
    return FIELD_BAD;
  if (dtype == GRD_DTYPE_BOOL) {
    if (g_ascii_strcasecmp (s, "true") == 0) {
      *iv = 1;
      return FIELD_OK;
    }
    if (g_ascii_strcasecmp (s, "false") == 0) {
      *iv = 0;
      return FIELD_OK;
    }
  }
  if (!grd_dtype_is_float (dtype)) {
    errno = 0;
    gint64 v = g_ascii_strtoll (s, &end, 10);
    if (*end == '\0') {
      /* strtoll saturates: a literal beyond int64 is refused, not clamped */
      if (errno == ERANGE)
        return FIELD_RANGE;
      *iv = v;
      *dv = (double) v;
      return dtype != GRD_DTYPE_BOOL || v == 0 || v == 1 ? FIELD_OK : FIELD_BAD;
    }
  }
  errno = 0;
  double d = g_ascii_strtod (s, &end);
  if (*end != '\0' || end == s)
    return FIELD_BAD;
  /* overflow to infinity is refused; "inf" written out is accepted */
  if (errno == ERANGE && isinf (d))
    return FIELD_RANGE;
  if (dtype == GRD_DTYPE_FLOAT32 && isfinite (d) && fabs (d) > FLT_MAX)
    return FIELD_RANGE;
  *dv = d;
  if (!grd_dtype_is_float (dtype)) {
    if (d != floor (d))
      return FIELD_BAD;
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
      return FIELD_RANGE;
    *iv = (gint64) d;
    return dtype != GRD_DTYPE_BOOL || d == 0 || d == 1 ? FIELD_OK : FIELD_BAD;
  }
  return FIELD_OK;
}

/* Whether a field may appear in a message: only numbers are quoted, so that
 * a data file that is not what it claims (a private file) is never echoed. */
static gboolean
field_is_numeric (const char *s)
{
  gsize n = strlen (s);
  if (n == 0 || n > 40)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isdigit (s[i]) && !strchr ("+-.eE", s[i]))
      return FALSE;
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
  g_autoptr (GrdTensor) t = grd_tensor_try_new (dtype, one_d ? 1 : 2, shape, error);
  if (!t)
    return NULL;
  for (guint r = 0; r < csv->rows->len; r++) {
    Row *row = &g_array_index (csv->rows, Row, r);
    for (gint c = 0; c < n_columns; c++) {
      const char *s = row->fields[columns[c]];
      double dv = 0;
      gint64 iv = 0;
      FieldStatus st = parse_field (s, dtype, &dv, &iv);
      if (st != FIELD_OK) {
        g_autofree char *where = g_strdup_printf ("%s: line %d, column %d%s%s%s", csv->name,
                                                  row->line, columns[c], csv->header ? " ('" : "",
                                                  csv->header ? csv->header[columns[c]] : "",
                                                  csv->header ? "')" : "");
        const char *want = dtype == GRD_DTYPE_BOOL ? "a bool (0, 1, true, false)"
                           : grd_dtype_is_float (dtype) ? "a number" : "an integer";
        if (st == FIELD_RANGE)
          g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s: %s is out of the %s range", where,
                       s, grd_dtype_name (dtype));
        else if (field_is_numeric (s))
          g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s: %s is not %s", where, s, want);
        else
          g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE, "%s: the field is not %s", where, want);
        return NULL;
      }
      gint64 i = (gint64) r * n_columns + c;
      switch (dtype) {
      case GRD_DTYPE_INT64: ((gint64 *) t->data)[i] = iv; break;
      case GRD_DTYPE_INT32:
        if (iv < G_MININT32 || iv > G_MAXINT32) {
          g_set_error (error, GRD_ERROR, GRD_ERROR_PARSE,
                       "%s: line %d, column %d%s%s%s: %s is out of the int32 range", csv->name,
                       row->line, columns[c], csv->header ? " ('" : "",
                       csv->header ? csv->header[columns[c]] : "", csv->header ? "')" : "", s);
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
