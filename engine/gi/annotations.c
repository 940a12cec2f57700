/* annotations.c: GObject-introspection annotations of the C API of gradus.h
 * and grd-gtypes.h, read by g-ir-scanner only (never compiled), so that the
 * header keeps its plain comments. Each block names a symbol and says what
 * the C types cannot: array lengths, ownership, nullable and out arguments,
 * and which calls bindings reach through a heap-GrdRef form (rename-to). */

/**
 * GrdTensor:
 * @ref_count: the reference count
 * @dtype: the element type
 * @rank: the number of dimensions
 * @shape: (array fixed-size=8): the dimensions; the first @rank count
 * @size: the number of elements
 * @data: the elements, row-major
 *
 * A dense, contiguous, row-major array, reference counted.
 */

/**
 * grd_tensor_new:
 * @dtype: the element type
 * @rank: the number of dimensions
 * @shape: (array length=rank) (nullable): the dimensions
 *
 * Returns: (transfer full): a zero-filled tensor
 */

/**
 * grd_tensor_new_scalar:
 * @dtype: the element type
 * @value: the value
 *
 * Returns: (transfer full): a 0-d tensor
 */

/**
 * grd_tensor_new_from_doubles: (skip)
 */

/**
 * grd_tensor_new_from_bytes: (constructor)
 * @dtype: the element type
 * @shape: (array length=rank) (nullable): the dimensions
 * @rank: the number of dimensions
 * @data: the elements in the dtype's native layout, row-major
 * @error: where a bad shape or byte count is reported
 *
 * Returns: (transfer full): a tensor holding a copy of @data
 */

/**
 * grd_tensor_get_bytes:
 * @t: a tensor
 *
 * Returns: (transfer full): a copy of the elements, in the dtype's native layout
 */

/**
 * grd_tensor_get_shape:
 * @t: a tensor
 * @rank: (out): the number of dimensions
 *
 * Returns: (array length=rank) (transfer none): the dimensions
 */

/**
 * grd_tensor_ref:
 * @t: a tensor
 *
 * Returns: (transfer full): @t
 */

/**
 * grd_tensor_unref:
 * @t: (transfer full): a tensor
 */

/**
 * grd_tensor_copy:
 * @t: a tensor
 *
 * Returns: (transfer full): a deep copy
 */

/**
 * grd_tensor_cast:
 * @t: a tensor
 * @dtype: the new element type
 *
 * Returns: (transfer full): a converted copy
 */

/**
 * grd_tensor_describe:
 * @t: a tensor
 *
 * Returns: (transfer full): "float32[3,4]"
 */

/**
 * GrdType:
 * @dtype: the element type
 * @rank: the number of dimensions
 * @dims: (array fixed-size=8): the dimensions, GRD_DIM_UNKNOWN where the call decides
 *
 * The static type of a node output.
 */

/**
 * grd_type_describe:
 * @type: a type
 *
 * Returns: (transfer full): "float64[?,3]"
 */

/**
 * grd_type_copy:
 * @type: a type
 *
 * Returns: (transfer full): a copy
 */

/**
 * GrdRef:
 * @node: the index of the node in its graph
 * @output: which output of the node
 *
 * A reference to one output of a node.
 */

/**
 * grd_ref_new: (constructor)
 * @node: the index of the node
 * @output: the output
 *
 * Returns: (transfer full): a new reference
 */

/**
 * grd_ref_copy:
 * @ref: a reference
 *
 * Returns: (transfer full): a copy
 */

/**
 * GrdUpdate:
 * @shared: the shared variable
 * @value: its new value after each call
 *
 * An update of a shared variable, as in theano.function(updates=...).
 */

/**
 * grd_update_new: (constructor)
 * @shared: the shared variable
 * @value: the expression of its new value
 *
 * Returns: (transfer full): a new update
 */

/**
 * grd_update_copy:
 * @update: an update
 *
 * Returns: (transfer full): a copy
 */

/**
 * GrdAttrs:
 * @has_axis: FALSE: all axes (reductions) or the op's default
 * @n_axes: the number of axes
 * @axes: (array fixed-size=8): the axes, negative counting from the end
 * @keepdims: reductions keep the reduced axes with size 1
 * @n_perm: transpose: the number of axes in @perm; 0 reverses the axes
 * @perm: (array fixed-size=8): transpose's permutation
 * @n_shape: reshape: the number of dimensions in @shape
 * @shape: (array fixed-size=8): reshape's dimensions, one may be -1
 * @n_pattern: dimshuffle: the length of @pattern
 * @pattern: (array fixed-size=8): dimshuffle's pattern, -1 for "x"
 * @ndim: flatten's number of dimensions
 * @n_slice: slice: the number of leading axes sliced
 * @begin: (array fixed-size=8): slice beginnings
 * @end: (array fixed-size=8): slice ends
 * @step: (array fixed-size=8): slice steps
 * @has_dtype: whether @dtype is set
 * @dtype: cast's and one_hot's dtype
 * @depth: one_hot's depth
 *
 * The attributes of an op; only those the op reads matter.
 */

/**
 * grd_attrs_new: (constructor)
 *
 * Returns: (transfer full): attributes with their defaults
 */

/**
 * grd_attrs_copy:
 * @attrs: attributes
 *
 * Returns: (transfer full): a copy
 */

/**
 * grd_attrs_axis: (skip)
 */

/**
 * grd_attrs_set_axes:
 * @attrs: attributes
 * @axes: (array length=n_axes): the axes, negative counting from the end
 * @n_axes: the number of axes
 * @error: where too many axes are reported
 *
 * Returns: TRUE on success
 */

/**
 * grd_attrs_set_perm:
 * @attrs: attributes
 * @perm: (array length=n_perm): transpose's permutation
 * @n_perm: the number of axes
 * @error: where too many axes are reported
 *
 * Returns: TRUE on success
 */

/**
 * grd_attrs_set_shape:
 * @attrs: attributes
 * @shape: (array length=n_shape): reshape's dimensions, one may be -1
 * @n_shape: the number of dimensions
 * @error: where too many dimensions are reported
 *
 * Returns: TRUE on success
 */

/**
 * grd_attrs_set_pattern:
 * @attrs: attributes
 * @pattern: (array length=n_pattern): dimshuffle's pattern, -1 for "x"
 * @n_pattern: the number of entries
 * @error: where too many entries are reported
 *
 * Returns: TRUE on success
 */

/**
 * grd_dtype_from_name:
 * @name: "float32", ...
 * @out: (out): the dtype
 *
 * Returns: FALSE for an unknown name
 */

/**
 * grd_backend_from_name:
 * @name: "cpu" or "vulkan"
 * @out: (out): the back end
 *
 * Returns: FALSE for an unknown name
 */

/**
 * grd_graph_new:
 *
 * Returns: (transfer full): an empty graph
 */

/**
 * grd_graph_ref:
 * @graph: a graph
 *
 * Returns: (transfer full): @graph
 */

/**
 * grd_graph_unref:
 * @graph: (transfer full): a graph
 */

/**
 * grd_graph_variable: (skip)
 */

/**
 * grd_graph_constant: (skip)
 */

/**
 * grd_graph_shared: (skip)
 */

/**
 * grd_graph_op: (skip)
 */

/**
 * grd_graph_grad: (skip)
 */

/**
 * grd_op1: (skip)
 */

/**
 * grd_op2: (skip)
 */

/**
 * grd_op3: (skip)
 */

/**
 * grd_scalar: (skip)
 */

/**
 * grd_graph_get_value: (skip)
 */

/**
 * grd_graph_set_value: (skip)
 */

/**
 * grd_graph_node_input: (skip)
 */

/**
 * grd_graph_grad_output: (skip)
 */

/**
 * grd_graph_ref_type: (skip)
 */

/**
 * grd_graph_add_variable: (rename-to grd_graph_variable)
 * @graph: a graph
 * @id: (nullable): the node id; NULL makes one up
 * @dtype: the element type
 * @dims: (array length=rank) (nullable): the dimensions, GRD_DIM_UNKNOWN (-1) where each call decides
 * @rank: the number of dimensions
 * @error: where an invalid id or type is reported
 *
 * A symbolic variable: T.scalar(), T.vector(), ...
 *
 * Returns: (transfer full): the variable
 */

/**
 * grd_graph_add_constant: (rename-to grd_graph_constant)
 * @graph: a graph
 * @id: (nullable): the node id; NULL makes one up
 * @value: the constant's value
 * @error: where an invalid id is reported
 *
 * Returns: (transfer full): the constant
 */

/**
 * grd_graph_add_shared: (rename-to grd_graph_shared)
 * @graph: a graph
 * @id: (nullable): the node id; NULL makes one up
 * @value: the initial value
 * @error: where an invalid id is reported
 *
 * A shared variable: theano.shared(value).
 *
 * Returns: (transfer full): the shared variable
 */

/**
 * grd_graph_add_op: (rename-to grd_graph_op)
 * @graph: a graph
 * @id: (nullable): the node id; NULL makes one up
 * @op: the op's name in the catalogue ("add", "dot", ...)
 * @inputs: (array length=n_inputs): the operands
 * @n_inputs: the number of operands
 * @attrs: (nullable): the op's attributes; NULL for the defaults
 * @error: where a type, shape or graph error is reported
 *
 * Returns: (transfer full): the op's first output
 */

/**
 * grd_graph_add_scalar:
 * @graph: a graph
 * @dtype: the element type
 * @value: the value
 * @error: where an error is reported
 *
 * Returns: (transfer full): a new scalar constant
 */

/**
 * grd_graph_add_grad: (rename-to grd_graph_grad)
 * @graph: a graph
 * @id: (nullable): the grad node's id; NULL makes one up
 * @cost: the scalar cost
 * @wrt: (array length=n_wrt): the nodes to differentiate with respect to
 * @n_wrt: the number of nodes in @wrt
 * @consider_constant: (array length=n_consider_constant) (nullable): nodes whose gradient is not followed
 * @n_consider_constant: the number of nodes in @consider_constant
 * @error: where a graph or type error is reported
 *
 * theano.grad(cost, wrt).
 *
 * Returns: (transfer full) (element-type GrdRef): d cost / d wrt[i] for each i
 */

/**
 * grd_graph_value_of: (rename-to grd_graph_get_value)
 * @graph: a graph
 * @node: a constant or shared node
 *
 * Returns: (transfer none) (nullable): its current value
 */

/**
 * grd_graph_set_value_of: (rename-to grd_graph_set_value)
 * @graph: a graph
 * @node: a shared node
 * @value: the new value, of the same dtype and shape
 * @error: where a wrong dtype or shape is reported
 *
 * Returns: TRUE on success
 */

/**
 * grd_graph_node_input_ref: (rename-to grd_graph_node_input)
 * @graph: a graph
 * @node: the index of a node
 * @i: which input
 *
 * Returns: (transfer full) (nullable): the reference the input reads
 */

/**
 * grd_graph_lookup:
 * @graph: a graph
 * @reference: "id" or "id:k"
 * @out: (out caller-allocates): the reference
 * @error: where an unknown id is reported
 *
 * Returns: (skip): TRUE on success
 */

/**
 * grd_graph_node_type:
 * @graph: a graph
 * @node: the index of a node
 * @output: which output
 *
 * Returns: (transfer none): the output's static type
 */

/**
 * grd_op_names:
 *
 * Returns: (array zero-terminated=1) (transfer none): the op names, in catalogue order
 */

/**
 * grd_op_group:
 * @op: an op name
 *
 * Returns: (nullable): the op's group, NULL if the op is unknown
 */

/**
 * grd_function_new: (constructor)
 * @graph: the graph
 * @inputs: (array length=n_inputs) (nullable): the variables each call feeds
 * @n_inputs: the number of inputs
 * @outputs: (array length=n_outputs) (nullable): what each call returns
 * @n_outputs: the number of outputs
 * @updates: (array length=n_updates) (nullable): the shared variables' updates
 * @n_updates: the number of updates
 * @error: where a graph error is reported
 *
 * theano.function(inputs, outputs, updates=updates), on the CPU.
 *
 * Returns: (transfer full): the compiled function
 */

/**
 * grd_function_new_on: (constructor)
 * @graph: the graph
 * @inputs: (array length=n_inputs) (nullable): the variables each call feeds
 * @n_inputs: the number of inputs
 * @outputs: (array length=n_outputs) (nullable): what each call returns
 * @n_outputs: the number of outputs
 * @updates: (array length=n_updates) (nullable): the shared variables' updates
 * @n_updates: the number of updates
 * @backend: where to run
 * @warning: (out) (optional) (nullable) (transfer full): why it runs on the CPU instead
 * @error: where a graph error is reported
 *
 * Returns: (transfer full): the compiled function
 */

/**
 * grd_function_ref:
 * @fn: a function
 *
 * Returns: (transfer full): @fn
 */

/**
 * grd_function_free:
 * @fn: (transfer full): a function
 */

/**
 * grd_function_call: (skip)
 */

/**
 * grd_function_call_doubles: (skip)
 */

/**
 * grd_function_call_list: (rename-to grd_function_call)
 * @fn: a function
 * @inputs: (array length=n_inputs): a value for each input
 * @n_inputs: the number of values
 * @error: where a value that does not fit its input is reported
 *
 * Calls the function; the updates take effect together afterwards.
 *
 * Returns: (transfer full) (element-type GrdTensor): the outputs
 */

/**
 * grd_function_fallback_reason:
 * @fn: a function
 *
 * Returns: (nullable): why it runs on the CPU, or NULL
 */

/**
 * grd_function_describe:
 * @fn: a function
 *
 * Returns: (transfer full): the compiled program as text
 */

/**
 * grd_function_profile: (skip)
 */

/**
 * grd_value_from_json:
 * @node: a JSON value
 * @dtype: the element type
 * @base_dir: (nullable): the folder relative npy paths start from
 * @error: where a malformed value is reported
 *
 * Returns: (transfer full): the value
 */

/**
 * grd_value_to_json:
 * @value: a tensor
 *
 * Returns: (transfer full): nested lists
 */

/**
 * grd_npy_load:
 * @path: (type filename): an .npy file
 * @error: where an unreadable file is reported
 *
 * Returns: (transfer full): the array
 */

/**
 * grd_npy_save:
 * @path: (type filename): the file to write
 * @value: the array
 * @error: where a write error is reported
 *
 * Returns: TRUE on success
 */

/**
 * grd_document_load: (constructor)
 * @path: (type filename): a graph file
 * @error: where a malformed file is reported
 *
 * Returns: (transfer full): the document
 */

/**
 * grd_document_load_from_data: (constructor)
 * @data: (array length=length) (element-type guint8): the file's text
 * @length: its length, or -1 when NUL-terminated
 * @path: (nullable) (type filename): the name used in messages and for relative paths
 * @error: where a malformed file is reported
 *
 * Returns: (transfer full): the document
 */

/**
 * grd_document_new_from_json: (constructor)
 * @root: the file's JSON
 * @path: (nullable) (type filename): the name used in messages and for relative paths
 * @flags: strict or lenient
 * @error: where a malformed file is reported
 *
 * Returns: (transfer full): the document
 */

/**
 * grd_document_ref:
 * @doc: a document
 *
 * Returns: (transfer full): @doc
 */

/**
 * grd_document_free:
 * @doc: (transfer full): a document
 */

/**
 * grd_document_node_error:
 * @doc: a lenient document
 * @id: a node id
 *
 * Returns: (nullable): the node's error message
 */

/**
 * grd_document_error_ids:
 * @doc: a lenient document
 *
 * Returns: (transfer none) (element-type utf8): the ids of the nodes in error
 */

/**
 * grd_document_path:
 * @doc: a document
 *
 * Returns: (nullable) (type filename): its path
 */

/**
 * grd_document_graph:
 * @doc: a document
 *
 * Returns: (transfer none): its graph
 */

/**
 * grd_document_root:
 * @doc: a document
 *
 * Returns: (transfer none): its JSON
 */

/**
 * grd_document_function:
 * @doc: a document
 * @error: where a graph error is reported
 *
 * Returns: (transfer full): the file's function, compiled
 */

/**
 * grd_document_save:
 * @doc: a document
 * @path: (type filename): the file to write
 * @error: where a write error is reported
 *
 * Returns: TRUE on success
 */

/**
 * grd_document_save_full:
 * @doc: a document
 * @path: (type filename): the file to write
 * @outside: (out) (optional) (nullable) (transfer full) (array zero-terminated=1):
 *   the data files the saved file reads from outside its new folder
 * @error: where a write error is reported
 *
 * Returns: TRUE on success
 */

/**
 * grd_data_paths_rebase:
 * @tree: a graph file's JSON tree, changed in place
 * @old_dir: (type filename): the folder its paths are relative to
 * @new_dir: (type filename): the folder they are for afterwards
 *
 * Returns: (transfer full) (nullable) (array zero-terminated=1): the data
 *   files read from outside @new_dir afterwards
 */

/**
 * grd_data_paths_outside:
 * @tree: a graph file's JSON tree
 * @dir: (type filename): its folder
 *
 * Returns: (transfer full) (nullable) (array zero-terminated=1): the data
 *   files it reads from outside @dir
 */

/**
 * grd_data_paths_same_folder:
 * @a: (type filename): a folder
 * @b: (type filename): another
 *
 * Returns: whether both are the same folder
 */

/**
 * grd_document_to_data:
 * @doc: a document
 * @length: (out) (optional): the length of the text
 *
 * Returns: (transfer full): the file's text
 */

/**
 * grd_document_dup_saved_tree:
 * @doc: a document
 *
 * Returns: (transfer full): the tree a save would write
 */

/**
 * grd_document_set_resume:
 * @doc: a document
 * @next_step: the step the next call has
 * @n: the number of functions
 * @functions: (array length=n): their names
 * @calls: (array length=n): how often each was called
 */

/**
 * grd_document_to_dot:
 * @doc: a document
 *
 * Returns: (transfer full): Graphviz DOT text
 */

/**
 * grd_document_feeds: (skip)
 */

/**
 * grd_document_feeds_named: (skip)
 */

/**
 * grd_document_run_also: (skip)
 */

/**
 * grd_graph_random_state: (skip)
 */

/**
 * grd_document_function_names:
 * @doc: a document
 *
 * Returns: (transfer full) (array zero-terminated=1): "main" for the
 *   file's function, then the names of its other functions
 */

/**
 * grd_feed_new: (skip)
 */

/**
 * grd_feed_next: (skip)
 */

/**
 * grd_feed_free: (skip)
 */

/**
 * grd_vulkan_describe_devices:
 * @error: where a missing loader or driver is reported
 *
 * Returns: (transfer full): one line per Vulkan device
 */
