import type { CorpusPaperInput, TopicInfo } from '../types.js';

/**
 * Long-term memory for language models. Summaries are our own words; every number in `results` is one
 * the paper reports (mostly in its abstract), so a review grounded in this corpus quotes real results.
 */
export const MEMORY_TOPIC: TopicInfo = {
  id: 'memory',
  title: 'Long-term memory for large language models',
  approaches: [
    {
      id: 'extended-context',
      name: 'Extended context windows and efficient long-sequence architectures',
      keywords: ['context window', 'long context', 'long-context', 'transformer-xl', 'longformer', 'recurrent memory transformer', 'infini-attention', 'state space', 'mamba', 'longlora', 'gemini 1.5', 'sparse attention', 'segment-level recurrence'],
    },
    {
      id: 'retrieval',
      name: 'Retrieval-augmented generation',
      keywords: ['retrieval-augmented', 'retrieval augmented', 'rag', 'retro', 'retriever', 'nearest-neighbor', 'nearest neighbor', 'knn', 'dense retrieval'],
    },
    {
      id: 'compression',
      name: 'Summarization and context compression',
      keywords: ['summariz', 'summaris', 'compress', 'llmlingua', 'compressive transformer'],
    },
    {
      id: 'memory-architectures',
      name: 'Specialised memory architectures and memory-managing agents',
      keywords: ['memgpt', 'longmem', 'neural turing machine', 'memorizing transformer', 'titans', 'external memory', 'memory bank', 'virtual context', 'memory module', 'test time', 'test-time'],
    },
    {
      id: 'parametric',
      name: 'Parametric memory: knowledge editing and continual learning',
      keywords: ['rome', 'memit', 'model editing', 'knowledge editing', 'editing', 'parametric', 'continual learning', 'catastrophic forgetting', 'in the weights'],
    },
  ],
  openProblems: [
    'Long context windows exist on paper, but how well models use information placed deep inside them (rather than near the start or end) is still uneven, and benchmarks such as needle retrieval overstate real multi-hop use.',
    'Memory written at test time (Titans-style neural memory, recurrent memory tokens) has been shown at research scale; whether it holds up at frontier scale, with stable training and efficient hardware use, is open.',
    'Retrieval quality bounds RAG: when the retriever misses or returns distractors, generation degrades, and jointly training retriever and generator at scale remains costly.',
    'Editing facts in the weights (ROME, MEMIT) works for thousands of simple associations, but edits interact, can damage unrelated knowledge, and do not yet give a reliable path to continual learning.',
    'Agents that manage their own memory (MemGPT) depend on the model deciding what to store, evict and retrieve; there is little evaluation of these policies over months of real use.',
  ],
};

export const MEMORY_PAPERS: CorpusPaperInput[] = [
  {
    arxivId: '1410.5401',
    title: 'Neural Turing Machines',
    authors: ['Alex Graves', 'Greg Wayne', 'Ivo Danihelka'],
    year: 2014,
    topic: 'memory',
    approach: 'memory-architectures',
    aliases: ['Neural Turing Machine', 'NTM'],
    seminal: true,
    tldr: 'Couples a neural controller to an external memory matrix read and written through differentiable attention, so simple algorithms can be learned end to end.',
    summary:
      'A recurrent controller reads from and writes to a memory matrix using soft, differentiable addressing that mixes content-based lookup with location-based shifts. Because every memory operation is differentiable, the whole system is trained by gradient descent from input/output examples, and it learns algorithm-like behaviour such as copying and sorting.',
    introduction:
      'Recurrent networks hold state only in their hidden activations, which makes storing and retrieving many items over long spans hard. The paper draws on the von Neumann separation of processor and memory and on working-memory ideas from cognitive science, and asks whether an external, addressable memory trained end to end can give neural networks that capacity.',
    results: [
      'Learns copy, repeated-copy, associative-recall, dynamic N-gram and priority-sort tasks from examples.',
      'On the copy task it generalises to sequences longer than those seen in training, where an LSTM baseline degrades quickly.',
    ],
  },
  {
    arxivId: '1901.02860',
    title: 'Transformer-XL: Attentive Language Models Beyond a Fixed-Length Context',
    authors: ['Zihang Dai', 'Zhilin Yang', 'Yiming Yang', 'Jaime Carbonell', 'Quoc V. Le', 'Ruslan Salakhutdinov'],
    year: 2019,
    venue: 'ACL 2019',
    topic: 'memory',
    approach: 'extended-context',
    aliases: ['Transformer-XL', 'Transformer XL'],
    seminal: true,
    tldr: 'Caches the hidden states of the previous segment and attends to them, with relative positional encodings, so a Transformer language model sees beyond its fixed segment length.',
    summary:
      'Transformer-XL adds segment-level recurrence: hidden states computed for the previous segment are kept (without gradient) and reused as extra context for the current one. A relative positional encoding scheme keeps positions consistent when states are reused. Together they lengthen the dependencies the model can capture and make evaluation much faster, since context is not recomputed for every token.',
    introduction:
      'Vanilla Transformer language models are trained on fixed-length segments, so no information flows across segment boundaries and the text is cut without regard to sentence structure (context fragmentation). RNNs carry state across segments but struggle with long-range dependencies because of vanishing gradients. Transformer-XL combines the two ideas.',
    results: [
      'Learns dependencies about 80% longer than RNNs and 450% longer than vanilla Transformers.',
      'Up to 1,800+ times faster than a vanilla Transformer during evaluation.',
      'State of the art at publication: 0.99 bpc on enwik8, 1.08 bpc on text8, perplexity 18.3 on WikiText-103, 21.8 on One Billion Word and 54.5 on Penn Treebank (without fine-tuning).',
    ],
  },
  {
    arxivId: '1911.05507',
    title: 'Compressive Transformers for Long-Range Sequence Modelling',
    authors: ['Jack W. Rae', 'Anna Potapenko', 'Siddhant M. Jayakumar', 'Timothy P. Lillicrap'],
    year: 2019,
    venue: 'ICLR 2020',
    topic: 'memory',
    approach: 'compression',
    aliases: ['Compressive Transformer'],
    tldr: 'Extends Transformer-XL-style memory with a second, compressed memory: old activations are squeezed by a learned compression function instead of being discarded.',
    summary:
      'Instead of dropping the oldest cached activations, the Compressive Transformer maps them into a smaller compressed memory (for example with convolutions or pooling trained with an auxiliary reconstruction loss) and attends over both the recent memory and the compressed one. The paper also releases PG-19, a benchmark of full-length books for long-range language modelling.',
    introduction:
      'Memory-augmented Transformers such as Transformer-XL keep a window of past activations and throw away anything older, so the reachable context is bounded by memory cost. The authors argue, by analogy with human memory, that the past should be kept in a lossy, compressed form rather than forgotten.',
    results: [
      'State-of-the-art language modelling at publication: 17.1 perplexity on WikiText-103 and 0.97 bpc on enwik8.',
      'Introduces the PG-19 book-level language modelling benchmark.',
      'Also models high-frequency speech and serves as the memory of an RL agent on an object-matching task.',
    ],
    buildsOn: ['1901.02860'],
  },
  {
    arxivId: '2004.05150',
    title: 'Longformer: The Long-Document Transformer',
    authors: ['Iz Beltagy', 'Matthew E. Peters', 'Arman Cohan'],
    year: 2020,
    topic: 'memory',
    approach: 'extended-context',
    aliases: ['Longformer'],
    tldr: 'Replaces full self-attention with a sliding-window local attention plus a few global tokens, so cost grows linearly with sequence length.',
    summary:
      'Longformer combines windowed (optionally dilated) local attention with task-motivated global attention on selected tokens, giving attention whose cost scales linearly with input length. It is evaluated on character-level language modelling and, after continued pretraining from RoBERTa, on long-document QA and classification; an encoder-decoder variant (LED) targets long-document generation.',
    introduction:
      'Full self-attention is quadratic in sequence length, so Transformer encoders such as BERT and RoBERTa are limited to about 512 tokens and long documents must be chunked or truncated, losing cross-chunk information. Prior sparse-attention work focused on autoregressive language modelling; Longformer aims for a drop-in long-document encoder for downstream tasks.',
    results: [
      'State-of-the-art character-level language modelling results on text8 and enwik8 at publication.',
      'After pretraining with 4,096-token inputs it consistently outperforms RoBERTa on long-document tasks and set new state-of-the-art results on WikiHop and TriviaQA at publication.',
    ],
  },
  {
    arxivId: '2203.08913',
    title: 'Memorizing Transformers',
    authors: ['Yuhuai Wu', 'Markus N. Rabe', 'DeLesley Hutchins', 'Christian Szegedy'],
    year: 2022,
    venue: 'ICLR 2022',
    topic: 'memory',
    approach: 'memory-architectures',
    aliases: ['Memorizing Transformer', 'Memorizing Transformers'],
    tldr: 'Lets one attention layer retrieve past (key, value) pairs from a large non-differentiable memory by approximate kNN lookup, so a model memorises new data at inference time.',
    summary:
      'Keys and values from earlier parts of a long document are stored in an external memory; an attention layer near the top of the network performs approximate k-nearest-neighbour lookup into it and combines the retrieved values with local attention through a learned gate. The memory is not trained through, so it can grow large cheaply.',
    introduction:
      'Language models normally acquire knowledge only by updating their weights during training. The paper asks whether a model can instead read new material and memorise it immediately, at inference time, by storing its own internal representations and retrieving them when relevant.',
    results: [
      'Improves language modelling on web text (C4), arXiv math papers, books (PG-19), code (GitHub) and formal theorems (Isabelle).',
      'Perplexity keeps improving as the memory grows, up to 262K tokens.',
      'On code and mathematics the model uses functions and theorems defined earlier in the same document at test time.',
    ],
    buildsOn: ['1901.02860'],
  },
  {
    arxivId: '2207.06881',
    title: 'Recurrent Memory Transformer',
    authors: ['Aydar Bulatov', 'Yuri Kuratov', 'Mikhail S. Burtsev'],
    year: 2022,
    venue: 'NeurIPS 2022',
    topic: 'memory',
    approach: 'extended-context',
    aliases: ['Recurrent Memory Transformer', 'RMT'],
    tldr: 'Adds special memory tokens to each input segment and passes their outputs to the next segment, turning an unchanged Transformer into a segment-level recurrent model.',
    summary:
      'The Recurrent Memory Transformer processes a long input segment by segment. Memory tokens are prepended (and appended) to each segment; their output states become the memory tokens of the next segment, and training backpropagates through the recurrence. The Transformer itself is not modified, which makes the method easy to apply to existing models.',
    introduction:
      'Transformer-XL reuses cached hidden states, but that memory is not trained to store what matters and grows with the layers. RMT instead lets the model learn, through ordinary tokens, what to write into a small memory that travels across segments.',
    results: [
      'Performs on par with Transformer-XL on language modelling at smaller memory sizes and outperforms it on tasks that require processing longer sequences.',
    ],
    buildsOn: ['1901.02860'],
  },
  {
    arxivId: '2404.07143',
    title: 'Leave No Context Behind: Efficient Infinite Context Transformers with Infini-attention',
    authors: ['Tsendsuren Munkhdalai', 'Manaal Faruqui', 'Siddharth Gopal'],
    year: 2024,
    topic: 'memory',
    approach: 'extended-context',
    aliases: ['Infini-attention', 'Infini-Transformer'],
    tldr: 'Puts a compressive linear-attention memory inside each attention block next to local masked attention, giving bounded memory and compute for unbounded inputs.',
    summary:
      'Infini-attention keeps standard dot-product attention within a segment and adds an associative memory matrix updated from the same keys and values, read with linear attention; a learned gate mixes the two. Old segments are folded into the fixed-size memory rather than kept as a growing KV cache, so the model can stream arbitrarily long inputs.',
    introduction:
      'The KV cache of a Transformer grows linearly with context, so very long contexts are expensive in memory. Earlier segment-level memories (Transformer-XL, Memorizing Transformers, RMT) either discard old context or store it uncompressed. The paper aims for a minimal change to attention that supports continual pretraining of existing models.',
    results: [
      'Outperforms baselines on long-context language modelling while using a 114x smaller memory.',
      'A 1B model, after continual pretraining, solves passkey retrieval with 1M-token inputs.',
      'An 8B model reaches a new state of the art on 500K-length book summarisation.',
    ],
    buildsOn: ['1901.02860', '2203.08913', '2207.06881'],
  },
  {
    arxivId: '2312.00752',
    title: 'Mamba: Linear-Time Sequence Modeling with Selective State Spaces',
    authors: ['Albert Gu', 'Tri Dao'],
    year: 2023,
    topic: 'memory',
    approach: 'extended-context',
    aliases: ['Mamba'],
    seminal: true,
    tldr: 'A recurrent state-space model whose parameters depend on the input, so it can choose what to keep in its fixed-size state, with a hardware-aware parallel scan.',
    summary:
      'Mamba makes the state-space parameters functions of the current token, letting the model selectively propagate or forget information along the sequence. A hardware-aware recurrent scan keeps training efficient without attention or MLP blocks, and inference cost per token is constant, independent of context length.',
    introduction:
      'Subquadratic alternatives to attention (linear attention, gated convolutions, earlier structured state-space models) had not matched Transformers on language, which the authors attribute to their inability to do content-based reasoning: their dynamics do not depend on the input. Mamba adds that selectivity.',
    results: [
      'About 5x higher inference throughput than Transformers, with linear scaling in sequence length.',
      'Performance on real data improves with context up to million-length sequences.',
      'Mamba-3B outperforms Transformers of the same size and matches Transformers twice its size on language modelling.',
    ],
  },
  {
    arxivId: '2501.00663',
    title: 'Titans: Learning to Memorize at Test Time',
    authors: ['Ali Behrouz', 'Peilin Zhong', 'Vahab Mirrokni'],
    year: 2024,
    topic: 'memory',
    approach: 'memory-architectures',
    aliases: ['Titans'],
    tldr: 'A neural long-term memory module whose weights are updated at test time by a surprise signal (the gradient of an associative loss), with momentum and forgetting, combined with attention.',
    summary:
      'Titans treats memorisation as online learning: a small neural memory is trained during inference to map keys to values, with updates driven by how surprising each input is (the gradient of its associative recall loss), a momentum term for past surprise, and a data-dependent decay that forgets. Attention acts as short-term memory over a window, and three variants combine the two (memory as context, as gate, or as layer).',
    introduction:
      'Attention gives precise short-term memory with quadratic cost; linear recurrent models compress history into a fixed state and lose detail. The authors argue that an effective system needs distinct short-term and long-term memories and a long-term memory that learns what to store while running, prioritising surprising events as human memory does.',
    results: [
      'More effective than Transformers and modern linear recurrent models on language modelling, common-sense reasoning, genomics and time-series tasks.',
      'Scales to context windows larger than 2M tokens with higher needle-in-a-haystack accuracy than baselines.',
    ],
    buildsOn: ['1410.5401', '2312.00752'],
  },
  {
    arxivId: '2005.11401',
    title: 'Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks',
    authors: ['Patrick Lewis', 'Ethan Perez', 'Aleksandra Piktus', 'Fabio Petroni', 'Vladimir Karpukhin'],
    moreAuthors: true,
    year: 2020,
    venue: 'NeurIPS 2020',
    topic: 'memory',
    approach: 'retrieval',
    aliases: ['Retrieval-Augmented Generation', 'RAG'],
    seminal: true,
    tldr: 'Combines a pretrained seq2seq generator with a dense retriever over a Wikipedia index, trained jointly, so generation is conditioned on retrieved passages.',
    summary:
      'RAG couples a parametric memory (a pretrained BART generator) with a non-parametric memory (a dense vector index of Wikipedia queried by a neural retriever). The retriever and generator are fine-tuned end to end, either conditioning on the same retrieved passages for the whole output or on different passages per token.',
    introduction:
      'Large pretrained models store knowledge in their parameters, but they cannot easily expand or revise it, cannot show provenance for their answers, and can hallucinate. Earlier hybrid models with retrieval had been explored only for extractive question answering.',
    results: [
      'Set the state of the art on three open-domain question-answering tasks at publication, outperforming parametric seq2seq models and task-specific retrieve-and-extract architectures.',
      'Generates more specific, diverse and factual language than a parametric-only seq2seq baseline.',
    ],
  },
  {
    arxivId: '2112.04426',
    title: 'Improving language models by retrieving from trillions of tokens',
    authors: ['Sebastian Borgeaud', 'Arthur Mensch', 'Jordan Hoffmann', 'Trevor Cai'],
    moreAuthors: true,
    year: 2021,
    venue: 'ICML 2022',
    topic: 'memory',
    approach: 'retrieval',
    aliases: ['RETRO', 'Retrieval-Enhanced Transformer'],
    seminal: true,
    tldr: 'RETRO conditions an autoregressive language model on chunks retrieved from a 2-trillion-token database through chunked cross-attention.',
    summary:
      'The Retrieval-Enhanced Transformer splits its input into chunks, retrieves nearest-neighbour chunks from a very large text database using frozen BERT embeddings, and attends to them with chunked cross-attention. The database can be far larger than anything the model could memorise in its weights.',
    introduction:
      'Scaling language models means scaling parameters and compute. Retrieval offers another axis: let the model look things up in an explicit memory at inference time, which also makes knowledge easier to update and inspect.',
    results: [
      'Uses a 2 trillion token retrieval database.',
      'Performs comparably to GPT-3 and Jurassic-1 on the Pile despite using 25x fewer parameters.',
    ],
    buildsOn: ['2005.11401'],
  },
  {
    arxivId: '2310.08560',
    title: 'MemGPT: Towards LLMs as Operating Systems',
    authors: ['Charles Packer', 'Sarah Wooders', 'Kevin Lin', 'Vivian Fang', 'Shishir G. Patil', 'Ion Stoica', 'Joseph E. Gonzalez'],
    year: 2023,
    topic: 'memory',
    approach: 'memory-architectures',
    aliases: ['MemGPT'],
    tldr: 'Gives an LLM operating-system-style virtual context management: the model moves information between its context window and external storage with function calls.',
    summary:
      'MemGPT splits memory into a main context (the prompt, like RAM) and external context (archival and recall storage, like disk). The model itself decides, through function calls, what to write to storage, what to search for and page back in, and what to evict, with interrupts handling control flow.',
    introduction:
      'Fixed context windows limit long conversations and the analysis of documents larger than the window; simply enlarging the window is costly and models use long contexts unevenly. The authors borrow hierarchical memory and paging from operating systems to give the illusion of a larger context.',
    results: [
      'Analyses documents far larger than the underlying model\'s context window.',
      'In multi-session chat it keeps and uses facts from earlier sessions, outperforming fixed-context baselines on the paper\'s memory-retrieval and consistency evaluations.',
    ],
  },
  {
    arxivId: '2306.07174',
    title: 'Augmenting Language Models with Long-Term Memory',
    authors: ['Weizhi Wang', 'Li Dong', 'Hao Cheng', 'Xiaodong Liu', 'Xifeng Yan', 'Jianfeng Gao', 'Furu Wei'],
    year: 2023,
    venue: 'NeurIPS 2023',
    topic: 'memory',
    approach: 'memory-architectures',
    aliases: ['LongMem'],
    tldr: 'LongMem keeps a frozen LLM as a memory encoder and trains a residual side network that retrieves and reads cached past key-value pairs.',
    summary:
      'LongMem caches attention keys and values from past inputs in a memory bank produced by a frozen backbone LLM; a lightweight residual side network retrieves the most relevant cached pairs and fuses them with the current context. Decoupling the frozen encoder from the trainable reader avoids memory staleness when the model is updated.',
    introduction:
      'LLMs only see a fixed-size input, so long histories and many-shot demonstrations cannot be used. Memory-augmented approaches that train the whole model suffer from stale memories once parameters change; LongMem separates the two roles.',
    results: [
      'Extends the usable long-form memory to 65k tokens, which lets many extra in-context demonstrations be cached as memory.',
      'Outperforms strong long-context models on the ChapterBreak benchmark and improves memory-augmented in-context learning.',
    ],
    buildsOn: ['2203.08913'],
  },
  {
    arxivId: '2310.05736',
    title: 'LLMLingua: Compressing Prompts for Accelerated Inference of Large Language Models',
    authors: ['Huiqiang Jiang', 'Qianhui Wu', 'Chin-Yew Lin', 'Yuqing Yang', 'Lili Qiu'],
    year: 2023,
    venue: 'EMNLP 2023',
    topic: 'memory',
    approach: 'compression',
    aliases: ['LLMLingua'],
    tldr: 'Compresses prompts by dropping low-information tokens chosen with a small language model, under a budget controller, before sending them to a large model.',
    summary:
      'LLMLingua is coarse-to-fine: a budget controller allots compression ratios to parts of the prompt (instructions, demonstrations, question), then an iterative token-level algorithm removes tokens with low perplexity under a small model, and instruction tuning aligns the small model with the large one.',
    introduction:
      'Chain-of-thought and in-context learning make prompts long, sometimes tens of thousands of tokens, which raises cost and latency and can exceed context limits. Compressing the prompt trades a little accuracy for much shorter inputs.',
    results: [
      'Up to 20x compression with little performance loss on GSM8K, BBH, ShareGPT and Arxiv-March23.',
    ],
  },
  {
    arxivId: '2202.05262',
    title: 'Locating and Editing Factual Associations in GPT',
    authors: ['Kevin Meng', 'David Bau', 'Alex Andonian', 'Yonatan Belinkov'],
    year: 2022,
    venue: 'NeurIPS 2022',
    topic: 'memory',
    approach: 'parametric',
    aliases: ['ROME', 'Rank-One Model Editing'],
    seminal: true,
    tldr: 'Causal tracing locates factual recall in mid-layer feed-forward modules, and ROME edits one fact with a rank-one update to a single MLP weight matrix.',
    summary:
      'Causal mediation analysis (corrupting the subject and restoring individual hidden states) shows that mid-layer MLPs at the last subject token are decisive for recalling a fact. Treating such an MLP as a key-value store, Rank-One Model Editing writes a new association with a closed-form rank-one weight update.',
    introduction:
      'Knowledge stored in the parameters of a language model is hard to inspect or correct; fine-tuning to change a fact tends to either fail to generalise to paraphrases or damage unrelated facts. The paper asks where facts are stored and whether they can be edited directly.',
    results: [
      'On zero-shot relation extraction (zsRE) editing, ROME is comparable to existing editing methods.',
      'On the new CounterFact dataset of counterfactual assertions it keeps both generalisation and specificity, whereas other methods sacrifice one or the other.',
    ],
  },
  {
    arxivId: '2210.07229',
    title: 'Mass-Editing Memory in a Transformer',
    authors: ['Kevin Meng', 'Arnab Sen Sharma', 'Alex Andonian', 'Yonatan Belinkov', 'David Bau'],
    year: 2022,
    venue: 'ICLR 2023',
    topic: 'memory',
    approach: 'parametric',
    aliases: ['MEMIT'],
    tldr: 'MEMIT spreads many fact edits across several MLP layers at once, scaling direct model editing from single facts to thousands.',
    summary:
      'Building on the causal-tracing picture of ROME, MEMIT computes target hidden states for many new associations and distributes the required weight changes over a range of critical MLP layers with a least-squares update, so a batch of edits is inserted in one step.',
    introduction:
      'Earlier editors (ROME, meta-learned editors) handle one or a few facts; keeping a deployed model up to date needs many edits at once without degrading the model.',
    results: [
      'Scales editing to thousands of associations for GPT-J (6B) and GPT-NeoX (20B), exceeding prior work by orders of magnitude.',
    ],
    buildsOn: ['2202.05262'],
  },
  {
    arxivId: '2309.12307',
    title: 'LongLoRA: Efficient Fine-tuning of Long-Context Large Language Models',
    authors: ['Yukang Chen', 'Shengju Qian', 'Haotian Tang', 'Xin Lai', 'Zhijian Liu', 'Song Han', 'Jiaya Jia'],
    year: 2023,
    venue: 'ICLR 2024',
    topic: 'memory',
    approach: 'extended-context',
    aliases: ['LongLoRA'],
    tldr: 'Extends the context of pretrained LLMs cheaply by fine-tuning with shifted sparse attention and LoRA that also trains embeddings and normalisation layers.',
    summary:
      'During fine-tuning LongLoRA uses shifted sparse attention (local attention in groups, with half the heads shifted so information flows between groups), while inference uses ordinary full attention. It pairs this with LoRA, finding that making embedding and normalisation layers trainable is key for context extension.',
    introduction:
      'Training LLMs with long contexts is expensive because attention is quadratic; plain LoRA fine-tuning for context extension is cheaper but loses quality. The paper seeks context extension at close to LoRA cost.',
    results: [
      'Extends Llama 2 7B from 4k to 100k context, or Llama 2 70B to 32k, on a single 8x A100 machine.',
    ],
  },
  {
    arxivId: '2403.05530',
    title: 'Gemini 1.5: Unlocking multimodal understanding across millions of tokens of context',
    authors: ['Gemini Team, Google'],
    moreAuthors: true,
    year: 2024,
    topic: 'memory',
    approach: 'extended-context',
    aliases: ['Gemini 1.5', 'Gemini 1.5 Pro'],
    tldr: 'A mixture-of-experts multimodal model with a context window of millions of tokens, evaluated on long-document, long-video and long-audio recall and reasoning.',
    summary:
      'The report describes Gemini 1.5 Pro, a multimodal mixture-of-experts model that recalls and reasons over millions of tokens of text, video and audio, and studies its long-context behaviour with needle-in-a-haystack tests, long-document QA and in-context learning of a new language from a grammar book.',
    introduction:
      'Previous frontier models offered context windows of up to a few hundred thousand tokens. The report argues that contexts of millions of tokens change what can be done in context: whole codebases, books or hours of video.',
    results: [
      'Near-perfect recall (above 99%) on long-context retrieval tasks up to at least 10M tokens.',
    ],
  },
];
