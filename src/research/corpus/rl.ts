import type { CorpusPaperInput, TopicInfo } from '../types.js';

/** Reinforcement learning and alignment. Summaries in our own words; numbers are ones the papers report. */
export const RL_TOPIC: TopicInfo = {
  id: 'rl',
  title: 'Reinforcement learning and alignment',
  approaches: [
    {
      id: 'deep-rl',
      name: 'Deep RL foundations (value-based and policy-gradient methods)',
      keywords: ['dqn', 'deep q-network', 'q-learning', 'ppo', 'proximal policy', 'policy gradient', 'atari'],
    },
    {
      id: 'rlhf',
      name: 'Learning from human (and AI) feedback: RLHF and preference optimisation',
      keywords: ['rlhf', 'human feedback', 'human preferences', 'reward model', 'instructgpt', 'dpo', 'direct preference', 'constitutional', 'rlaif', 'alignment'],
    },
    {
      id: 'offline-sequence',
      name: 'Offline RL and RL as sequence modelling',
      keywords: ['offline rl', 'offline reinforcement', 'decision transformer', 'conservative q', 'cql', 'sequence modeling', 'sequence modelling', 'return-conditioned'],
    },
    {
      id: 'world-models',
      name: 'World models and model-based RL',
      keywords: ['world model', 'model-based', 'dreamer', 'muzero', 'learned model', 'imagination', 'planning'],
    },
    {
      id: 'continual',
      name: 'Continual and lifelong RL',
      keywords: ['continual', 'lifelong', 'catastrophic forgetting', 'elastic weight', 'ewc', 'progressive neural', 'plasticity', 'non-stationary'],
    },
  ],
  openProblems: [
    'Reward models trained from human preferences are imperfect proxies; optimising hard against them invites reward hacking, and it is unclear how to supervise behaviour humans cannot easily judge.',
    'Offline RL is limited by the coverage of the dataset: conservative methods avoid overestimation but can be too pessimistic to improve much on the behaviour policy.',
    'Continual RL agents forget old tasks and lose plasticity; methods that protect old knowledge (EWC, progressive networks) trade it against capacity or compute, and standard benchmarks for lifelong settings are immature.',
    'World models such as DreamerV3 and MuZero work with fixed hyperparameters across many simulated domains, but their sample efficiency in messy real-world settings with partial observability is still unproven.',
  ],
};

export const RL_PAPERS: CorpusPaperInput[] = [
  {
    arxivId: '1312.5602',
    title: 'Playing Atari with Deep Reinforcement Learning',
    authors: ['Volodymyr Mnih', 'Koray Kavukcuoglu', 'David Silver', 'Alex Graves', 'Ioannis Antonoglou', 'Daan Wierstra', 'Martin Riedmiller'],
    year: 2013,
    topic: 'rl',
    approach: 'deep-rl',
    aliases: ['DQN', 'Deep Q-Network'],
    seminal: true,
    tldr: 'A convolutional network trained with a variant of Q-learning and experience replay learns to play Atari games directly from pixels.',
    summary:
      'The Deep Q-Network takes raw frames as input and outputs action values, trained with Q-learning on minibatches sampled from an experience-replay buffer, which breaks the correlation between consecutive samples. The same architecture and hyperparameters are used for every game.',
    introduction:
      'Learning control from high-dimensional sensory input had relied on hand-crafted features; combining nonlinear function approximators with RL was considered unstable. The paper shows deep learning can extract useful features for control from pixels with a stable enough training scheme.',
    results: [
      'Applied to 7 Atari 2600 games with no change of architecture or learning algorithm, it outperforms all previous approaches on 6 of them and surpasses a human expert on 3.',
    ],
  },
  {
    arxivId: '1707.06347',
    title: 'Proximal Policy Optimization Algorithms',
    authors: ['John Schulman', 'Filip Wolski', 'Prafulla Dhariwal', 'Alec Radford', 'Oleg Klimov'],
    year: 2017,
    topic: 'rl',
    approach: 'deep-rl',
    aliases: ['PPO', 'Proximal Policy Optimization'],
    seminal: true,
    tldr: 'PPO optimises a clipped surrogate objective over several epochs of minibatch updates, keeping each policy update close to the data-collecting policy.',
    summary:
      'PPO alternates between sampling data with the current policy and optimising a surrogate objective for several epochs; clipping the probability ratio removes the incentive to move the policy far from the one that collected the data. It keeps much of the stability of trust-region methods with only first-order optimisation.',
    introduction:
      'Vanilla policy gradients are data-inefficient and unstable, and TRPO is reliable but complicated and incompatible with architectures that share parameters or use noise such as dropout. PPO aims for TRPO-like reliability with a simple implementation.',
    results: [
      'Outperforms other online policy-gradient methods on simulated robotic locomotion and Atari benchmarks, and overall strikes a favourable balance between sample complexity, simplicity and wall-time.',
    ],
  },
  {
    arxivId: '1706.03741',
    title: 'Deep reinforcement learning from human preferences',
    authors: ['Paul Christiano', 'Jan Leike', 'Tom B. Brown', 'Miljan Martic', 'Shane Legg', 'Dario Amodei'],
    year: 2017,
    venue: 'NeurIPS 2017',
    topic: 'rl',
    approach: 'rlhf',
    aliases: [],
    seminal: true,
    tldr: 'Learns a reward model from human comparisons of pairs of short trajectory clips and trains an RL agent against it, with no access to the true reward.',
    summary:
      'Humans are shown pairs of short video clips of agent behaviour and pick the one closer to the goal; a reward predictor is fitted to these comparisons and the policy is trained with RL on the predicted reward, with the three processes running asynchronously. Queries focus on clips where an ensemble of reward predictors disagrees.',
    introduction:
      'Many goals are hard to specify as a reward function, and having humans give feedback on every step is far too expensive for deep RL. The paper seeks human oversight cheap enough to apply to state-of-the-art RL systems.',
    results: [
      'Solves Atari games and simulated robot locomotion without the reward function while humans give feedback on less than one percent of the agent\'s interactions with the environment.',
      'Trains novel behaviours (such as a backflip) with about an hour of human time.',
    ],
    buildsOn: ['1707.06347'],
  },
  {
    arxivId: '2203.02155',
    title: 'Training language models to follow instructions with human feedback',
    authors: ['Long Ouyang', 'Jeff Wu', 'Xu Jiang', 'Diogo Almeida', 'Carroll L. Wainwright'],
    moreAuthors: true,
    year: 2022,
    venue: 'NeurIPS 2022',
    topic: 'rl',
    approach: 'rlhf',
    aliases: ['InstructGPT'],
    seminal: true,
    tldr: 'InstructGPT fine-tunes GPT-3 with supervised demonstrations, then with PPO against a reward model trained on human rankings of outputs.',
    summary:
      'The recipe has three steps: supervised fine-tuning on labeller-written demonstrations, training a reward model on labeller rankings of several model outputs, and optimising the policy against that reward model with PPO (optionally mixing in pretraining gradients to limit regressions on public NLP benchmarks).',
    introduction:
      'Larger language models are not inherently better at following user intent: they can be untruthful, toxic or unhelpful, because next-token prediction on web text is not the objective users care about. The paper applies learning from human preferences to align a language model with instructions.',
    results: [
      'Labellers prefer outputs of the 1.3B-parameter InstructGPT to those of the 175B GPT-3, despite 100x fewer parameters.',
      'Improves truthfulness and reduces toxic output generation, with minimal performance regressions on public NLP datasets.',
    ],
    buildsOn: ['1706.03741', '1707.06347'],
  },
  {
    arxivId: '2212.08073',
    title: 'Constitutional AI: Harmlessness from AI Feedback',
    authors: ['Yuntao Bai', 'Saurav Kadavath', 'Sandipan Kundu', 'Amanda Askell', 'Jackson Kernion'],
    moreAuthors: true,
    year: 2022,
    topic: 'rl',
    approach: 'rlhf',
    aliases: ['Constitutional AI', 'RLAIF'],
    tldr: 'Trains a harmless assistant with AI-generated critiques, revisions and preference labels guided by a short list of written principles, instead of human harm labels.',
    summary:
      'A supervised phase has the model critique and revise its own responses according to principles (a "constitution") and fine-tunes on the revisions; an RL phase trains a preference model on AI-generated comparisons and optimises the policy against it (RL from AI feedback). Chain-of-thought reasoning makes the AI judgements more transparent.',
    introduction:
      'RLHF for harmlessness needs many human labels of harmful outputs, and models trained that way often become evasive. The authors ask whether AI supervision guided by explicit principles can replace much of that human labelling.',
    results: [
      'Produces a harmless but non-evasive assistant that engages with harmful requests by explaining its objections, using no human labels that identify harmful outputs.',
    ],
    buildsOn: ['2203.02155'],
  },
  {
    arxivId: '2305.18290',
    title: 'Direct Preference Optimization: Your Language Model is Secretly a Reward Model',
    authors: ['Rafael Rafailov', 'Archit Sharma', 'Eric Mitchell', 'Stefano Ermon', 'Christopher D. Manning', 'Chelsea Finn'],
    year: 2023,
    venue: 'NeurIPS 2023',
    topic: 'rl',
    approach: 'rlhf',
    aliases: ['DPO', 'Direct Preference Optimization'],
    tldr: 'Derives a classification-style loss on preference pairs whose optimum is the KL-regularised RLHF policy, removing the separate reward model and RL loop.',
    summary:
      'Using a reparameterisation of the reward in terms of the optimal policy of the KL-constrained RLHF objective, DPO turns preference learning into a simple binary cross-entropy loss on the policy\'s log-probability ratios for preferred versus rejected responses, with no sampling during training.',
    introduction:
      'RLHF is complex and often unstable: it fits a reward model and then runs RL (usually PPO) against it while staying close to a reference model. The paper shows the same objective can be optimised directly.',
    results: [
      'Exceeds PPO-based RLHF in controlling the sentiment of generations and matches or improves response quality in summarisation and single-turn dialogue, while being substantially simpler to implement and train.',
    ],
    buildsOn: ['2203.02155', '1707.06347'],
  },
  {
    arxivId: '2106.01345',
    title: 'Decision Transformer: Reinforcement Learning via Sequence Modeling',
    authors: ['Lili Chen', 'Kevin Lu', 'Aravind Rajeswaran', 'Kimin Lee', 'Aditya Grover', 'Michael Laskin', 'Pieter Abbeel', 'Aravind Srinivas', 'Igor Mordatch'],
    year: 2021,
    venue: 'NeurIPS 2021',
    topic: 'rl',
    approach: 'offline-sequence',
    aliases: ['Decision Transformer'],
    seminal: true,
    tldr: 'Casts offline RL as conditional sequence modelling: a causal Transformer predicts actions from past states, actions and the desired return-to-go.',
    summary:
      'Trajectories are laid out as sequences of (return-to-go, state, action) tokens and a GPT-style model is trained with a supervised loss to predict actions. At test time, conditioning on a high target return asks the model for behaviour that achieves it, with no value functions or policy gradients.',
    introduction:
      'Offline RL methods based on temporal-difference learning must fight bootstrapping errors and distribution shift. Transformers model long sequences well, so the authors ask whether RL can be reduced to sequence modelling and avoid those issues.',
    results: [
      'Matches or exceeds state-of-the-art model-free offline RL baselines on Atari, OpenAI Gym and Key-to-Door tasks.',
    ],
  },
  {
    arxivId: '2006.04779',
    title: 'Conservative Q-Learning for Offline Reinforcement Learning',
    authors: ['Aviral Kumar', 'Aurick Zhou', 'George Tucker', 'Sergey Levine'],
    year: 2020,
    venue: 'NeurIPS 2020',
    topic: 'rl',
    approach: 'offline-sequence',
    aliases: ['CQL', 'Conservative Q-Learning'],
    seminal: true,
    tldr: 'Adds a regulariser that pushes down Q-values of out-of-distribution actions, so the learned Q-function lower-bounds the true policy value in offline RL.',
    summary:
      'CQL augments the Bellman error with a term that minimises Q-values under a broad action distribution while maximising them on dataset actions. The learned Q-function then lower-bounds the value of the policy, preventing the overestimation that makes off-policy methods fail on static datasets.',
    introduction:
      'Offline RL promises to learn from previously collected data without interaction, but standard off-policy algorithms overestimate the value of actions absent from the data because of the distribution shift between dataset and learned policy.',
    results: [
      'Substantially outperforms existing offline RL methods on discrete and continuous control, often learning policies that attain 2-5 times higher final return, especially on complex and multi-modal data distributions.',
    ],
  },
  {
    arxivId: '1803.10122',
    title: 'World Models',
    authors: ['David Ha', 'Jürgen Schmidhuber'],
    year: 2018,
    topic: 'rl',
    approach: 'world-models',
    aliases: ['World Models'],
    seminal: true,
    tldr: 'Learns a compressed generative model of the environment (VAE plus recurrent mixture-density network) and trains a small controller on its features, even entirely inside the learned model.',
    summary:
      'A variational autoencoder compresses frames into a latent code, an MDN-RNN predicts the next latent code, and a tiny linear controller, trained with an evolution strategy, acts on the latent and recurrent state. Because the world model is generative, the controller can be trained in its "dream" and then transferred to the real environment.',
    introduction:
      'Model-free agents with large networks are hard to train with RL because of credit assignment. Inspired by how humans use internal mental models, the paper moves most of the capacity into an unsupervised world model and keeps the RL-trained part small.',
    results: [
      'Solves the CarRacing task from pixels with a small controller on top of the learned features.',
      'A policy trained entirely inside the learned model of VizDoom transfers back to the actual environment.',
    ],
  },
  {
    arxivId: '1911.08265',
    title: 'Mastering Atari, Go, Chess and Shogi by Planning with a Learned Model',
    authors: ['Julian Schrittwieser', 'Ioannis Antonoglou', 'Thomas Hubert', 'Karen Simonyan'],
    moreAuthors: true,
    year: 2019,
    venue: 'Nature 2020',
    topic: 'rl',
    approach: 'world-models',
    aliases: ['MuZero'],
    seminal: true,
    tldr: 'MuZero plans with tree search over a learned model that predicts only what planning needs (reward, policy, value), without being told the rules.',
    summary:
      'MuZero learns a representation, dynamics and prediction function end to end so that Monte Carlo tree search in the learned latent space predicts rewards, policies and values accurately; the model never has to reconstruct observations.',
    introduction:
      'Planning-based systems such as AlphaZero need a perfect simulator of the environment, while model-based RL that learns to predict observations had struggled in visually complex domains such as Atari. MuZero learns only the quantities relevant to planning.',
    results: [
      'Set a new state of the art on 57 Atari games at publication.',
      'Matches the superhuman performance of AlphaZero in Go, chess and shogi without being given the game rules.',
    ],
  },
  {
    arxivId: '2301.04104',
    title: 'Mastering Diverse Domains through World Models',
    authors: ['Danijar Hafner', 'Jurgis Pasukonis', 'Jimmy Ba', 'Timothy Lillicrap'],
    year: 2023,
    topic: 'rl',
    approach: 'world-models',
    aliases: ['DreamerV3'],
    tldr: 'DreamerV3 learns a world model and trains an actor-critic in imagination, with robustness techniques that let one set of hyperparameters work across very different domains.',
    summary:
      'DreamerV3 learns a recurrent state-space world model from experience and trains actor and critic on imagined rollouts. Normalisation, balancing and transformations such as symlog predictions make learning robust to different reward scales and observation types, so the same configuration is used everywhere.',
    introduction:
      'General RL algorithms usually need careful per-domain tuning, which limits their use on new problems. The paper aims for an algorithm that works out of the box across continuous and discrete control, 2D and 3D worlds, and dense and sparse rewards.',
    results: [
      'Outperforms specialised methods across a broad range of benchmarks with a single fixed configuration.',
      'First algorithm to collect diamonds in Minecraft from scratch, without human data or curricula.',
    ],
    buildsOn: ['1803.10122'],
  },
  {
    arxivId: '1612.00796',
    title: 'Overcoming catastrophic forgetting in neural networks',
    authors: ['James Kirkpatrick', 'Razvan Pascanu', 'Neil Rabinowitz', 'Joel Veness', 'Guillaume Desjardins'],
    moreAuthors: true,
    year: 2016,
    venue: 'PNAS 2017',
    topic: 'rl',
    approach: 'continual',
    aliases: ['Elastic Weight Consolidation', 'EWC'],
    seminal: true,
    tldr: 'Elastic weight consolidation slows learning on weights important for earlier tasks, measured by the Fisher information, to reduce catastrophic forgetting.',
    summary:
      'EWC adds a quadratic penalty that anchors each parameter to its value after earlier tasks, weighted by an estimate of how important the parameter was (the diagonal Fisher information). The network can then learn new tasks with the parameters that matter less.',
    introduction:
      'Neural networks trained sequentially overwrite what they learned before (catastrophic forgetting), whereas brains keep skills for a lifetime; neuroscience suggests synaptic consolidation protects important connections. The paper turns that idea into a training penalty.',
    results: [
      'Retains performance on sequences of MNIST classification tasks and learns several Atari 2600 games sequentially without forgetting them as badly as plain training does.',
    ],
  },
  {
    arxivId: '1606.04671',
    title: 'Progressive Neural Networks',
    authors: ['Andrei A. Rusu', 'Neil C. Rabinowitz', 'Guillaume Desjardins', 'Hubert Soyer', 'James Kirkpatrick', 'Koray Kavukcuoglu', 'Razvan Pascanu', 'Raia Hadsell'],
    year: 2016,
    topic: 'rl',
    approach: 'continual',
    aliases: ['Progressive Neural Networks'],
    tldr: 'Adds a new network column per task with lateral connections to the frozen columns of earlier tasks, which rules out forgetting and transfers features.',
    summary:
      'Each new task gets a fresh column; previous columns are frozen and feed the new one through learned lateral connections, so knowledge is reused without being overwritten. The cost is a network that grows with the number of tasks.',
    introduction:
      'Fine-tuning a pretrained network transfers knowledge but destroys what it knew before and offers limited transfer between dissimilar tasks. Continual learning in RL needs both transfer and immunity to forgetting.',
    results: [
      'Outperforms common baselines based on pretraining and fine-tuning on sequences of Atari games and 3D maze tasks, while being immune to forgetting by construction.',
    ],
  },
  {
    arxivId: '2012.13490',
    title: 'Towards Continual Reinforcement Learning: A Review and Perspectives',
    authors: ['Khimya Khetarpal', 'Matthew Riemer', 'Irina Rish', 'Doina Precup'],
    year: 2020,
    venue: 'JAIR 2022',
    topic: 'rl',
    approach: 'continual',
    aliases: [],
    tldr: 'A survey that frames continual RL as learning in non-stationary environments, organises approaches into a taxonomy and lists open evaluation questions.',
    summary:
      'The review formalises continual RL around non-stationarity of the environment, surveys methods (regularisation, modular and growing architectures, replay, meta-learning) and benchmarks, and discusses how evaluation should measure forgetting, transfer and adaptation over an agent\'s lifetime.',
    introduction:
      'Most RL is studied with a fixed task and an agent trained to convergence, whereas real environments change. The authors argue continual RL needs its own formalism and evaluation methodology.',
    results: [
      'Provides a taxonomy of continual RL formulations and methods and identifies open problems in evaluation and benchmarks (a survey; no new experimental results).',
    ],
    buildsOn: ['1612.00796', '1606.04671'],
  },
];
