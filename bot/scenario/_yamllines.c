/*
 * The line reader of `yamlfast.py`, compiled: the same rules, line for line, at a tenth of the cost.
 *
 * Why C: `signpost lint` must read a generated 10,000-node scenario (13 MB, 680,000 lines) in well
 * under 2 s (issue #5), and the Python reader spends about 1 µs a line on work that is a few
 * comparisons per character. Everything here mirrors `yamlfast.read_lines` and `yamlfast._line`,
 * which stay the reference (and the reader wherever this module was not built); the tests run both
 * against libyaml's event reader. Rare shapes call back into Python rather than being written twice:
 * quoted scalars and anything that is not a plain word (`_value`), plain scalars that are not
 * strings (`plain_scalar`: numbers and the words of `located.WORDS`) and flow collections (`_Flow`).
 *
 * read(text, first_number, depth) -> (root, lines, columns) | None
 *   None: the text holds a character the fast reader leaves to libyaml (`_UNUSUAL`).
 *   Raises the `UncommonYamlError` given to configure() where `read_lines` would.
 *   lines, columns: the marks (see `located.Marks`), as the bytes of C longs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#ifndef SOURCE_HASH
#define SOURCE_HASH ""
#endif

/* the kinds of line, numbered as in yamlfast.py */
enum { K_SCALAR, K_NESTED, K_FLOW, K_ITEM_SCALAR, K_ITEM_FLOW, K_ITEM_KEY };

/* yamlfast._KEY: a plain word of at most 1,000 characters */
#define MAX_KEY 1000

static struct {
    PyObject *value_of;     /* yamlfast._value(text) -> (kind, value) */
    PyObject *plain_scalar; /* located.plain_scalar(text) -> value */
    PyObject *read_flow;    /* (text, number, column, depth) -> (value, lines, columns) */
    PyObject *uncommon;     /* yamlfast.UncommonYamlError */
    long max_depth;
    Py_ssize_t max_scalar;
    PyObject *words;        /* located.WORDS */
    Py_ssize_t longest_word; /* so that longer scalars skip the lookup */
    char word_start[128];
    char not_plain_start[128];
    char number_start[128];
} hooks;

typedef struct {
    long shape; /* 2 * column + 1 for an item, 2 * column for a key, -2 for a blank line */
    int kind;
    PyObject *key;   /* owned; NULL where there is none */
    PyObject *value; /* owned; NULL for None */
    long key_mark;
    long value_col;
} Line;

typedef struct {
    long *items;
    Py_ssize_t len, cap;
} Longs;

/* The keys met so far, found by their first and last characters and length without making a
 * string (a large file has a few dozen distinct keys and hundreds of thousands of lines). */
#define KEY_SLOTS 512
typedef struct {
    PyObject *text;
    int kind;
    const void *data;
    PyObject *keys[KEY_SLOTS]; /* owned */
    Longs lines, columns;
} Reader;

#define CH(r, i) PyUnicode_READ((r)->kind, (r)->data, (i))

static int
uncommon(void)
{
    PyErr_SetNone(hooks.uncommon);
    return -1;
}

static int
push(Longs *b, long v)
{
    if (b->len == b->cap) {
        Py_ssize_t cap = b->cap ? 2 * b->cap : 4096;
        long *items = PyMem_Realloc(b->items, (size_t)cap * sizeof(long));
        if (items == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        b->items = items;
        b->cap = cap;
    }
    b->items[b->len++] = v;
    return 0;
}

static int
mark(Reader *r, long number, long column)
{
    return push(&r->lines, number) < 0 || push(&r->columns, column) < 0 ? -1 : 0;
}

/* Marks that a flow collection made, in a buffer of C longs (an array('l')). */
static int
push_all(Longs *b, PyObject *source)
{
    Py_buffer view;
    if (PyObject_GetBuffer(source, &view, PyBUF_SIMPLE) < 0)
        return -1;
    int status = 0;
    const long *items = view.buf;
    for (Py_ssize_t i = 0; i < view.len / (Py_ssize_t)sizeof(long) && status == 0; i++)
        status = push(b, items[i]);
    PyBuffer_Release(&view);
    return status;
}

static int
allowed(Py_UCS4 c)
{
    /* yamlfast._UNUSUAL, the other way round */
    return c == '\n' || (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0x2027) ||
           (c >= 0x202a && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfefe) ||
           (c >= 0xff00 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

static int
in_set(const char *set, Py_UCS4 c)
{
    return c < 128 && set[c];
}

static int
has(Reader *r, Py_ssize_t start, Py_ssize_t end, Py_UCS4 wanted)
{
    for (Py_ssize_t i = start; i < end; i++)
        if (CH(r, i) == wanted)
            return 1;
    return 0;
}

static int
key_char(Py_UCS4 c, int first)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
        return 1;
    return !first && (c == '.' || c == '+' || c == '-');
}

/* text[start:end] as a key, the same object each time it is met (a new reference) */
static PyObject *
known_key(Reader *r, Py_ssize_t start, Py_ssize_t end)
{
    Py_ssize_t length = end - start;
    size_t slot = ((size_t)CH(r, start) * 31 + (size_t)CH(r, end - 1) * 7 + (size_t)length) %
                  KEY_SLOTS;
    PyObject *known = r->keys[slot];
    if (known != NULL && PyUnicode_GET_LENGTH(known) == length) {
        int kind = PyUnicode_KIND(known);
        const void *data = PyUnicode_DATA(known);
        Py_ssize_t k = 0;
        while (k < length && PyUnicode_READ(kind, data, k) == CH(r, start + k))
            k++;
        if (k == length)
            return Py_NewRef(known);
    }
    PyObject *key = PyUnicode_Substring(r->text, start, end);
    if (key == NULL)
        return NULL;
    Py_XSETREF(r->keys[slot], Py_NewRef(key));
    return key;
}

/* yamlfast._value on text[start:end] */
static int
value_of(Reader *r, Py_ssize_t start, Py_ssize_t end, int *kind, PyObject **value)
{
    PyObject *text = PyUnicode_Substring(r->text, start, end);
    if (text == NULL)
        return -1;
    PyObject *said = PyObject_CallOneArg(hooks.value_of, text);
    Py_DECREF(text);
    if (said == NULL)
        return -1;
    if (!PyTuple_Check(said) || PyTuple_GET_SIZE(said) != 2) {
        Py_DECREF(said);
        PyErr_SetString(PyExc_TypeError, "value_of must return (kind, value)");
        return -1;
    }
    long k = PyLong_AsLong(PyTuple_GET_ITEM(said, 0));
    if (k == -1 && PyErr_Occurred()) {
        Py_DECREF(said);
        return -1;
    }
    *kind = (int)k;
    PyObject *v = PyTuple_GET_ITEM(said, 1);
    *value = v == Py_None ? NULL : Py_NewRef(v);
    Py_DECREF(said);
    return 0;
}

/* A plain scalar, text[start:end]: a string, unless `plain_scalar` makes it something else. */
static int
plain(Reader *r, Py_ssize_t start, Py_ssize_t end, PyObject **value)
{
    PyObject *text = PyUnicode_Substring(r->text, start, end);
    if (text == NULL)
        return -1;
    Py_UCS4 first = CH(r, start);
    int typed = in_set(hooks.number_start, first);
    if (!typed && in_set(hooks.word_start, first) && end - start <= hooks.longest_word) {
        typed = PySet_Contains(hooks.words, text);
        if (typed < 0) {
            Py_DECREF(text);
            return -1;
        }
    }
    if (!typed) {
        *value = text;
        return 0;
    }
    PyObject *read = PyObject_CallOneArg(hooks.plain_scalar, text);
    Py_DECREF(text);
    if (read == NULL)
        return -1;
    if (read == Py_None)
        Py_DECREF(read); /* NULL stands for None */
    else
        *value = read;
    return 0;
}

/* yamlfast._line on text[start:end]: fills `out`, whose references the caller releases */
static int
analyse(Reader *r, Py_ssize_t start, Py_ssize_t end, Line *out)
{
    if (end - start > hooks.max_scalar)
        return uncommon(); /* a value may be too long: the event reader says which */
    Py_ssize_t i = start;
    while (i < end && CH(r, i) == ' ')
        i++;
    if (i == end || CH(r, i) == '#')
        return 0; /* a blank line or a comment: `out` stays blank */
    long col = (long)(i - start);
    Py_ssize_t e = end;
    while (CH(r, e - 1) == ' ')
        e--;
    Py_ssize_t comment = i + 1;
    while (comment + 1 < e && !(CH(r, comment) == ' ' && CH(r, comment + 1) == '#'))
        comment++;
    if (comment + 1 < e && !has(r, i, comment, '"') && !has(r, i, comment, '\'')) {
        e = comment; /* a comment after the value (none in quotes) */
        while (CH(r, e - 1) == ' ')
            e--;
    }
    int item = e - i >= 2 && CH(r, i) == '-' && CH(r, i + 1) == ' ';
    long key_col = col;
    if (item) {
        Py_ssize_t j = i + 2;
        while (CH(r, j) == ' ')
            j++;
        key_col = col + (long)(j - i);
        Py_UCS4 first = CH(r, j);
        if (first == '"' || first == '\'' || first == '[' || first == '{' || !has(r, j, e, ':')) {
            int kind = K_SCALAR;
            if (!in_set(hooks.not_plain_start, first) && !has(r, j, e, '#')) {
                if (plain(r, j, e, &out->value) < 0) /* `_value`'s last line */
                    return -1;
            }
            else if (value_of(r, j, e, &kind, &out->value) < 0)
                return -1;
            out->shape = 2 * col + 1;
            out->kind = kind == K_FLOW ? K_ITEM_FLOW : K_ITEM_SCALAR;
            out->key_mark = key_col + 1;
            out->value_col = key_col;
            return 0;
        }
        i = j;
    }
    Py_ssize_t colon = i;
    while (colon < e && CH(r, colon) != ':')
        colon++;
    if (colon == e || colon == i || colon - i > MAX_KEY)
        return uncommon(); /* a value where a key should be, or no plain word before ':' */
    for (Py_ssize_t k = i; k < colon; k++)
        if (!key_char(CH(r, k), k == i))
            return uncommon(); /* a quoted key, `<<`, `? `... */
    PyObject *key = known_key(r, i, colon);
    if (key == NULL)
        return -1;
    out->key = key;
    out->shape = 2 * col + item;
    out->key_mark = key_col + 1;
    int extra = item ? K_ITEM_KEY : 0;
    if (colon + 1 == e) {
        out->kind = K_NESTED + extra;
        return 0;
    }
    if (CH(r, colon + 1) != ' ')
        return uncommon();
    Py_ssize_t t = colon + 2;
    while (CH(r, t) == ' ')
        t++;
    Py_UCS4 first = CH(r, t);
    int kind = K_SCALAR;
    if (in_set(hooks.not_plain_start, first) || has(r, t, e, ':') || has(r, t, e, '#')) {
        if (value_of(r, t, e, &kind, &out->value) < 0)
            return -1;
    }
    else if (plain(r, t, e, &out->value) < 0)
        return -1;
    out->kind = kind + extra;
    out->value_col = key_col + (long)(t - i);
    return 0;
}

/* _Flow(text, number, column, marks).read(depth), its marks added to ours */
static PyObject *
read_flow(Reader *r, PyObject *text, long number, long column, long depth)
{
    PyObject *said = PyObject_CallFunction(hooks.read_flow, "Olll", text, number, column, depth);
    if (said == NULL)
        return NULL;
    if (!PyTuple_Check(said) || PyTuple_GET_SIZE(said) != 3) {
        Py_DECREF(said);
        PyErr_SetString(PyExc_TypeError, "read_flow must return (value, lines, columns)");
        return NULL;
    }
    if (push_all(&r->lines, PyTuple_GET_ITEM(said, 1)) < 0 ||
        push_all(&r->columns, PyTuple_GET_ITEM(said, 2)) < 0) {
        Py_DECREF(said);
        return NULL;
    }
    PyObject *value = Py_NewRef(PyTuple_GET_ITEM(said, 0));
    Py_DECREF(said);
    return value;
}

static PyObject *
value_or_none(PyObject *value)
{
    return value != NULL ? value : Py_None;
}

/* `container[key] = value`, unless the key is there already (the event reader reports it) */
static int
put(PyObject *container, PyObject *key, PyObject *value)
{
    int there = PySequence_Contains(container, key);
    if (there != 0)
        return there < 0 ? -1 : uncommon();
    return PyObject_SetItem(container, key, value);
}

typedef struct {
    int is_mapping;
    long col;
    PyObject *container; /* borrowed: the tree owns it */
    long depth;
} Frame;

/* the main loop of yamlfast.read_lines, over lines already analysed */
static PyObject *
build(Reader *r, Line *infos, Py_ssize_t count, long first_number, long depth)
{
    Frame *stack = PyMem_Malloc((size_t)(hooks.max_depth + 2) * sizeof(Frame));
    if (stack == NULL)
        return PyErr_NoMemory();
    Py_ssize_t height = 0;
    int pending = 0; /* `key:` with its value below */
    long parent_col = 0, value_depth = 0;
    PyObject *parent = NULL, *parent_key = NULL;
    PyObject *root = NULL, *container = NULL;
    int is_mapping = 1;
    long top_col = -1, expected = -1;
    PyObject *made = NULL;   /* a new collection not yet in the tree: owned */
    PyObject *opened = NULL; /* borrowed */

#define FAIL goto failed
#define OPEN(mapping_, col_, container_, depth_)                                                  \
    do {                                                                                          \
        if (height > hooks.max_depth + 1) {                                                       \
            uncommon();                                                                           \
            FAIL;                                                                                 \
        }                                                                                         \
        is_mapping = (mapping_);                                                                  \
        top_col = (col_);                                                                         \
        container = (container_);                                                                 \
        depth = (depth_);                                                                         \
        stack[height++] = (Frame){is_mapping, top_col, container, depth};                         \
    } while (0)

    for (Py_ssize_t index = 0; index < count; index++) {
        Line *line = &infos[index];
        long number = first_number + (long)index;
        long shape = line->shape;
        if (shape != expected) {
            if (shape < 0)
                continue;
            long col = shape >> 1;
            int item = (int)(shape & 1);
            if (pending) { /* the value of the last `key:` starts here, or it is null */
                pending = 0;
                if (col > parent_col || (col == parent_col && item)) {
                    if (value_depth >= hooks.max_depth) {
                        uncommon();
                        FAIL;
                    }
                    made = item ? PyList_New(0) : PyDict_New();
                    if (made == NULL || PyObject_SetItem(parent, parent_key, made) < 0)
                        FAIL;
                    opened = made; /* the tree holds it now */
                    Py_CLEAR(made);
                    OPEN(!item, col, opened, value_depth);
                }
                else if (PyObject_SetItem(parent, parent_key, Py_None) < 0)
                    FAIL;
            }
            else if (root == NULL) { /* the first line: the document must be a block mapping */
                if (item) {
                    uncommon();
                    FAIL;
                }
                root = PyDict_New();
                if (root == NULL)
                    FAIL;
                OPEN(1, col, root, depth);
                if (mark(r, number, col + 1) < 0)
                    FAIL;
            }
            while (col != top_col || item == is_mapping) { /* close what the line is outside of */
                if (col > top_col || (col == top_col && is_mapping) || height <= 1) {
                    uncommon();
                    FAIL;
                }
                Frame *top = &stack[--height - 1];
                is_mapping = top->is_mapping;
                top_col = top->col;
                container = top->container;
                depth = top->depth;
            }
            expected = shape;
        }
        int kind = line->kind;
        if (kind == K_SCALAR) { /* the usual line: `key: word` */
            if (mark(r, number, line->key_mark) < 0 ||
                put(container, line->key, value_or_none(line->value)) < 0)
                FAIL;
            continue;
        }
        if (kind >= K_ITEM_SCALAR) {
            if (mark(r, number, line->key_mark) < 0)
                FAIL;
            if (kind == K_ITEM_SCALAR) {
                if (PyList_Append(container, value_or_none(line->value)) < 0)
                    FAIL;
                continue;
            }
            if (kind == K_ITEM_FLOW) {
                made = read_flow(r, line->value, number, line->value_col, depth + 1);
                if (made == NULL || PyList_Append(container, made) < 0)
                    FAIL;
                Py_CLEAR(made);
                continue;
            }
            if (depth + 1 >= hooks.max_depth) {
                uncommon();
                FAIL;
            }
            made = PyDict_New(); /* `- key: ...` opens a mapping at the column of `key` */
            if (made == NULL || PyList_Append(container, made) < 0)
                FAIL;
            opened = made;
            Py_CLEAR(made);
            OPEN(1, line->key_mark - 1, opened, depth + 1);
            expected = 2 * top_col;
            kind -= K_ITEM_KEY;
        }
        int there = PySequence_Contains(container, line->key);
        if (there != 0) {
            if (there > 0)
                uncommon();
            FAIL;
        }
        if (mark(r, number, line->key_mark) < 0)
            FAIL;
        if (kind == K_SCALAR) {
            if (PyObject_SetItem(container, line->key, value_or_none(line->value)) < 0)
                FAIL;
        }
        else if (kind == K_NESTED) {
            /* open the value now if the next line starts it, so that it is placed like any other */
            long next_shape = index + 1 < count ? infos[index + 1].shape : -2;
            long next_col = next_shape >> 1;
            long own_col = line->key_mark - 1;
            if (next_shape < 0) { /* a blank line or a comment: wait for the value's first line */
                pending = 1;
                parent_col = own_col;
                parent = container;
                parent_key = line->key;
                value_depth = depth + 1;
                expected = -1;
            }
            else if (next_col > own_col || (next_col == own_col && (next_shape & 1))) {
                if (depth + 1 >= hooks.max_depth) {
                    uncommon();
                    FAIL;
                }
                int next_item = (int)(next_shape & 1);
                made = next_item ? PyList_New(0) : PyDict_New();
                if (made == NULL || PyObject_SetItem(container, line->key, made) < 0)
                    FAIL;
                opened = made;
                Py_CLEAR(made);
                OPEN(!next_item, next_col, opened, depth + 1);
                expected = next_shape;
            }
            else if (PyObject_SetItem(container, line->key, Py_None) < 0)
                FAIL;
        }
        else {
            made = read_flow(r, line->value, number, line->value_col, depth + 1);
            if (made == NULL || PyObject_SetItem(container, line->key, made) < 0)
                FAIL;
            Py_CLEAR(made);
        }
    }
    if (pending && PyObject_SetItem(parent, parent_key, Py_None) < 0)
        FAIL;
    if (root == NULL) {
        uncommon(); /* nothing but comments: the event reader says the file is empty */
        FAIL;
    }
    PyMem_Free(stack);
    return root;

failed:
    Py_XDECREF(made);
    Py_XDECREF(root);
    PyMem_Free(stack);
    return NULL;
#undef OPEN
#undef FAIL
}

static PyObject *
marks_bytes(Longs *b)
{
    return PyBytes_FromStringAndSize((const char *)b->items, b->len * (Py_ssize_t)sizeof(long));
}

static PyObject *
read_text(PyObject *module, PyObject *args)
{
    PyObject *text;
    long first_number, depth;
    if (!PyArg_ParseTuple(args, "Ull", &text, &first_number, &depth))
        return NULL;
    if (hooks.uncommon == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "call configure() first");
        return NULL;
    }
    Reader r = {.text = text, .kind = PyUnicode_KIND(text), .data = PyUnicode_DATA(text)};
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    Py_ssize_t count = 1;
    /* one loop per width of character, so that the compiler keeps the width out of it */
#define SCAN(T)                                                                                   \
    do {                                                                                          \
        const T *chars = r.data;                                                                  \
        for (Py_ssize_t i = 0; i < length; i++) {                                                 \
            Py_UCS4 c = chars[i];                                                                 \
            if (c == '\n')                                                                        \
                count++;                                                                          \
            else if ((c < 0x20 || c > 0x7e) && !allowed(c))                                       \
                Py_RETURN_NONE;                                                                   \
        }                                                                                         \
    } while (0)
    if (r.kind == PyUnicode_1BYTE_KIND)
        SCAN(Py_UCS1);
    else if (r.kind == PyUnicode_2BYTE_KIND)
        SCAN(Py_UCS2);
    else
        SCAN(Py_UCS4);
#undef SCAN
    Line *infos = PyMem_Calloc((size_t)count, sizeof(Line));
    PyObject *result = NULL, *root = NULL;
    if (infos == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t start = 0;
    for (Py_ssize_t n = 0; n < count; n++) {
        Py_ssize_t end = start;
        while (end < length && CH(&r, end) != '\n')
            end++;
        infos[n].shape = -2;
        if (analyse(&r, start, end, &infos[n]) < 0)
            goto done;
        start = end + 1;
    }
    root = build(&r, infos, count, first_number, depth);
    if (root == NULL)
        goto done;
    PyObject *lines = marks_bytes(&r.lines), *columns = marks_bytes(&r.columns);
    if (lines != NULL && columns != NULL)
        result = PyTuple_Pack(3, root, lines, columns);
    Py_XDECREF(lines);
    Py_XDECREF(columns);

done:
    Py_XDECREF(root);
    if (infos != NULL) {
        for (Py_ssize_t n = 0; n < count; n++) {
            Py_XDECREF(infos[n].key);
            Py_XDECREF(infos[n].value);
        }
        PyMem_Free(infos);
    }
    for (int slot = 0; slot < KEY_SLOTS; slot++)
        Py_XDECREF(r.keys[slot]);
    PyMem_Free(r.lines.items);
    PyMem_Free(r.columns.items);
    return result;
}

static int
fill_set(char *set, PyObject *chars)
{
    memset(set, 0, 128);
    Py_ssize_t length = PyUnicode_GET_LENGTH(chars);
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 c = PyUnicode_READ_CHAR(chars, i);
        if (c >= 128) {
            PyErr_SetString(PyExc_ValueError, "only ASCII characters are expected here");
            return -1;
        }
        set[c] = 1;
    }
    return 0;
}

static PyObject *
set_up(PyObject *module, PyObject *args)
{
    PyObject *value_of_, *plain_scalar, *read_flow_, *uncommon_, *not_plain, *numbers, *words;
    long max_depth;
    Py_ssize_t max_scalar;
    if (!PyArg_ParseTuple(args, "OOOOlnUUO!", &value_of_, &plain_scalar, &read_flow_, &uncommon_,
                          &max_depth, &max_scalar, &not_plain, &numbers, &PyFrozenSet_Type,
                          &words))
        return NULL;
    if (max_depth < 1 || max_depth > 1000) {
        PyErr_SetString(PyExc_ValueError, "max_depth must be between 1 and 1000");
        return NULL;
    }
    if (fill_set(hooks.not_plain_start, not_plain) < 0 || fill_set(hooks.number_start, numbers) < 0)
        return NULL;
    Py_XSETREF(hooks.value_of, Py_NewRef(value_of_));
    Py_XSETREF(hooks.plain_scalar, Py_NewRef(plain_scalar));
    Py_XSETREF(hooks.read_flow, Py_NewRef(read_flow_));
    Py_XSETREF(hooks.uncommon, Py_NewRef(uncommon_));
    Py_XSETREF(hooks.words, Py_NewRef(words));
    memset(hooks.word_start, 0, sizeof hooks.word_start);
    hooks.longest_word = 0;
    PyObject *iterator = PyObject_GetIter(words), *word;
    if (iterator == NULL)
        return NULL;
    while ((word = PyIter_Next(iterator)) != NULL) {
        Py_ssize_t length = PyUnicode_Check(word) ? PyUnicode_GET_LENGTH(word) : 0;
        if (length > 0) {
            Py_UCS4 first = PyUnicode_READ_CHAR(word, 0);
            if (first >= 128) {
                Py_DECREF(word);
                Py_DECREF(iterator);
                PyErr_SetString(PyExc_ValueError, "the words must start with ASCII characters");
                return NULL;
            }
            hooks.word_start[first] = 1;
            if (length > hooks.longest_word)
                hooks.longest_word = length;
        }
        Py_DECREF(word);
    }
    Py_DECREF(iterator);
    if (PyErr_Occurred())
        return NULL;
    hooks.max_depth = max_depth;
    hooks.max_scalar = max_scalar;
    Py_RETURN_NONE;
}

/* located._keys_and_items_in_python, compiled: how many keys and items are written inside a
 * collection of the reader's data (plain dicts and lists, exact types), counted to find the mark
 * of a problem deep in a large file without building every position. No Python code runs during
 * the walk, so the collections stay as they are and borrowed references are enough. */
static PyObject *
count_entries(PyObject *module, PyObject *collection)
{
    if (!PyDict_CheckExact(collection) && !PyList_CheckExact(collection)) {
        PyErr_SetString(PyExc_TypeError, "count_entries expects a dict or a list");
        return NULL;
    }
    Py_ssize_t size = 64, waiting = 0, count = 0;
    PyObject **stack = PyMem_New(PyObject *, size);
    if (stack == NULL)
        return PyErr_NoMemory();
    stack[waiting++] = collection;
    while (waiting > 0) {
        PyObject *value = stack[--waiting], *child;
        int is_dict = PyDict_CheckExact(value);
        Py_ssize_t length = is_dict ? PyDict_GET_SIZE(value) : PyList_GET_SIZE(value);
        count += length;
        for (Py_ssize_t position = 0, i = 0; i < length; i++) {
            if (is_dict) {
                if (!PyDict_Next(value, &position, NULL, &child))
                    break;
            }
            else
                child = PyList_GET_ITEM(value, i);
            int holds = PyDict_CheckExact(child) ? PyDict_GET_SIZE(child) > 0
                        : PyList_CheckExact(child) ? PyList_GET_SIZE(child) > 0
                                                   : 0;
            if (!holds)
                continue;
            if (waiting == size) {
                PyObject **larger = PyMem_Realloc(stack, (size_t)size * 2 * sizeof(PyObject *));
                if (larger == NULL) {
                    PyMem_Free(stack);
                    return PyErr_NoMemory();
                }
                stack = larger;
                size *= 2;
            }
            stack[waiting++] = child;
        }
    }
    PyMem_Free(stack);
    return PyLong_FromSsize_t(count);
}

static PyMethodDef methods[] = {
    {"configure", set_up, METH_VARARGS, "Give the reader its Python helpers and limits."},
    {"read", read_text, METH_VARARGS, "The root, line marks and column marks of a text, or None."},
    {"count_entries", count_entries, METH_O, "How many keys and items a collection holds, deep."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "_yamllines",
    .m_doc = "The compiled line reader of yamlfast.py.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__yamllines(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddStringConstant(m, "SOURCE_HASH", SOURCE_HASH) < 0)
        Py_CLEAR(m);
    return m;
}
