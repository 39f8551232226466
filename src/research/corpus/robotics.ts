import type { CorpusPaperInput, TopicInfo } from '../types.js';

/** Data-efficient robot learning. Summaries in our own words; numbers are ones the papers report. */
export const ROBOTICS_TOPIC: TopicInfo = {
  id: 'robotics',
  title: 'Data-efficient robot learning',
  approaches: [
    {
      id: 'foundation-models',
      name: 'Robot foundation models and vision-language-action policies',
      keywords: ['rt-1', 'rt-2', 'rt-x', 'vision-language-action', 'vla', 'openvla', 'octo', 'open x-embodiment', 'foundation model', 'generalist'],
    },
    {
      id: 'imitation',
      name: 'Imitation learning from demonstrations',
      keywords: ['imitation', 'behavior cloning', 'behaviour cloning', 'demonstration', 'dagger', 'diffusion policy', 'action chunking', 'aloha', 'bc-z', 'teleoperation'],
    },
    {
      id: 'sim-to-real',
      name: 'Sim-to-real transfer',
      keywords: ['sim-to-real', 'sim2real', 'simulation', 'domain randomization', 'domain randomisation', 'reality gap', 'simulator'],
    },
    {
      id: 'robot-rl',
      name: 'Reinforcement learning on real robots',
      keywords: ['qt-opt', 'reinforcement learning', 'grasp', 'q-function', 'self-supervised'],
    },
    {
      id: 'language-representations',
      name: 'Language grounding and pretrained representations',
      keywords: ['saycan', 'affordance', 'language model', 'r3m', 'pretrained representation', 'pre-trained representation', 'visual representation', 'ego4d'],
    },
  ],
  openProblems: [
    'Robot data is scarce and expensive: RT-1 needed 17 months of collection with 13 robots, and cross-embodiment pooling (Open X-Embodiment) helps but mixes very different action spaces and camera setups.',
    'Vision-language-action models inherit semantic knowledge from the web but still fail on precise, contact-rich manipulation and run at low control frequencies.',
    'Sim-to-real transfer with domain randomisation works for perception and some dexterous tasks, yet building simulators that capture contact, deformables and sensing noise remains laborious.',
    'Imitation learning compounds errors once the policy leaves the demonstrated states; interactive corrections (DAgger) fix this but cost human time.',
  ],
};

export const ROBOTICS_PAPERS: CorpusPaperInput[] = [
  {
    arxivId: '2212.06817',
    title: 'RT-1: Robotics Transformer for Real-World Control at Scale',
    authors: ['Anthony Brohan', 'Noah Brown', 'Justice Carbajal', 'Yevgen Chebotar'],
    moreAuthors: true,
    year: 2022,
    topic: 'robotics',
    approach: 'foundation-models',
    aliases: ['RT-1', 'Robotics Transformer'],
    seminal: true,
    tldr: 'A Transformer policy that tokenises images and language instructions and outputs discretised actions, trained on a large real-world multi-task dataset.',
    summary:
      'RT-1 encodes a short history of camera images with a FiLM-conditioned EfficientNet, compresses the visual tokens with TokenLearner, and uses a Transformer to output discretised arm and base actions. It is trained on a large dataset of real demonstrations collected over many months by a fleet of mobile manipulators.',
    introduction:
      'Vision and language moved from task-specific models to large models pretrained on broad data, but robotics still trains per task because real data is hard to collect and models must run in real time. The paper asks whether a single high-capacity model trained on diverse robot data can generalise.',
    results: [
      'Trained on about 130k episodes covering more than 700 tasks, collected with a fleet of 13 robots over 17 months.',
      'Executes training instructions with a 97% success rate and generalises to unseen instructions with 76% success, ahead of BC-Z and Gato baselines.',
      'Can absorb data from simulation or from a different robot type while keeping performance on the original tasks.',
    ],
  },
  {
    arxivId: '2307.15818',
    title: 'RT-2: Vision-Language-Action Models Transfer Web Knowledge to Robotic Control',
    authors: ['Anthony Brohan', 'Noah Brown', 'Justice Carbajal', 'Yevgen Chebotar', 'Xi Chen'],
    moreAuthors: true,
    year: 2023,
    topic: 'robotics',
    approach: 'foundation-models',
    aliases: ['RT-2'],
    seminal: true,
    tldr: 'Represents robot actions as text tokens and co-fine-tunes large vision-language models on robot trajectories and web data, yielding vision-language-action models.',
    summary:
      'RT-2 starts from large pretrained vision-language models (PaLI-X and PaLM-E), expresses each action as a string of discretised tokens, and co-fine-tunes on robot trajectories together with the original web-scale vision-language tasks. The resulting model outputs actions directly while keeping much of its web knowledge.',
    introduction:
      'Robot policies trained only on robot data cannot know about objects, symbols or concepts absent from that data. Large vision-language models know a great deal about the world; the question is how to make them act.',
    results: [
      'Evaluated in about 6,000 real-robot trials, it generalises better than prior policies to novel objects and instructions.',
      'Shows emergent semantic reasoning, such as picking the object that could serve as an improvised hammer or following commands about numbers and icons never seen in robot data.',
    ],
    buildsOn: ['2212.06817'],
  },
  {
    arxivId: '2310.08864',
    title: 'Open X-Embodiment: Robotic Learning Datasets and RT-X Models',
    authors: ['Open X-Embodiment Collaboration'],
    moreAuthors: true,
    year: 2023,
    venue: 'ICRA 2024',
    topic: 'robotics',
    approach: 'foundation-models',
    aliases: ['Open X-Embodiment', 'RT-X', 'RT-1-X', 'RT-2-X'],
    seminal: true,
    tldr: 'Pools robot datasets from many labs into one standard format and shows that RT-X models trained on the mixture transfer skills across robot embodiments.',
    summary:
      'The collaboration converts demonstrations from many robots into a shared format and trains RT-1-X and RT-2-X on the pooled data. Evaluations across participating labs test whether one model benefits from data gathered on other robots.',
    introduction:
      'Each lab collects data for its own robot and trains its own policy, so datasets stay small and knowledge does not transfer. Vision and language benefited from pooled large datasets; the paper asks whether cross-embodiment pooling works for robots.',
    results: [
      'Assembles data from 22 different robots collected by 21 institutions, covering 527 skills (160,266 tasks).',
      'A high-capacity model trained on the mixture shows positive transfer, improving the capabilities of several robots by using experience from other platforms.',
    ],
    buildsOn: ['2212.06817', '2307.15818'],
  },
  {
    arxivId: '2405.12213',
    title: 'Octo: An Open-Source Generalist Robot Policy',
    authors: ['Octo Model Team', 'Dibya Ghosh', 'Homer Walke', 'Karl Pertsch', 'Kevin Black', 'Oier Mees'],
    moreAuthors: true,
    year: 2024,
    venue: 'RSS 2024',
    topic: 'robotics',
    approach: 'foundation-models',
    aliases: ['Octo'],
    tldr: 'An open Transformer-based diffusion policy pretrained on Open X-Embodiment data, designed to be fine-tuned to new robots, sensors and action spaces.',
    summary:
      'Octo tokenises language or goal images and observations, processes them with a Transformer, and decodes actions with a diffusion head. Its modular design lets new observation inputs and action spaces be added during fine-tuning.',
    introduction:
      'Generalist robot policies pretrained on diverse data promise fast adaptation, but existing ones were closed, tied to a single input setup, or hard to fine-tune. Octo aims to be an open, flexible starting point.',
    results: [
      'Pretrained on 800k robot trajectories from the Open X-Embodiment dataset.',
      'Can be fine-tuned to new sensory inputs and action spaces within a few hours on standard consumer GPUs.',
    ],
    buildsOn: ['2310.08864', '2303.04137'],
  },
  {
    arxivId: '2406.09246',
    title: 'OpenVLA: An Open-Source Vision-Language-Action Model',
    authors: ['Moo Jin Kim', 'Karl Pertsch', 'Siddharth Karamcheti', 'Ted Xiao'],
    moreAuthors: true,
    year: 2024,
    venue: 'CoRL 2024',
    topic: 'robotics',
    approach: 'foundation-models',
    aliases: ['OpenVLA'],
    tldr: 'A 7B open vision-language-action model built on Llama 2 with fused DINOv2 and SigLIP visual features, trained on real robot demonstrations.',
    summary:
      'OpenVLA fine-tunes a vision-language model (Llama 2 backbone, DINOv2 plus SigLIP vision encoder) to output discretised actions as tokens, trained on a large curated mixture of Open X-Embodiment data. The paper also studies parameter-efficient fine-tuning (LoRA) and quantised serving on consumer GPUs.',
    introduction:
      'Vision-language-action models such as RT-2 showed strong generalisation but were closed, and there was little work on how to fine-tune them efficiently for new setups, which limits adoption.',
    results: [
      'Trained on 970k real-world robot demonstrations.',
      'Outperforms the closed RT-2-X (55B) by 16.5% absolute task success across 29 tasks and several robot embodiments, with 7x fewer parameters.',
      'When fine-tuned to new settings it outperforms from-scratch imitation learning such as Diffusion Policy by 20.4%.',
    ],
    buildsOn: ['2307.15818', '2310.08864'],
  },
  {
    arxivId: '2204.01691',
    title: 'Do As I Can, Not As I Say: Grounding Language in Robotic Affordances',
    authors: ['Michael Ahn', 'Anthony Brohan', 'Noah Brown', 'Yevgen Chebotar'],
    moreAuthors: true,
    year: 2022,
    venue: 'CoRL 2022',
    topic: 'robotics',
    approach: 'language-representations',
    aliases: ['SayCan', 'PaLM-SayCan'],
    tldr: 'SayCan picks the next skill by combining a language model\'s estimate that the skill helps with a learned value function\'s estimate that it can succeed now.',
    summary:
      'A large language model scores how useful each skill in a library is for the instruction (the "say" part), and value functions trained with RL score how likely each skill is to succeed from the current state (the "can" part); the product selects the skill to execute, step by step, for long-horizon instructions.',
    introduction:
      'Language models hold rich semantic knowledge about procedures but no grounding in a particular robot or scene, so their plans may be impossible to execute. Affordance functions learned by the robot supply that grounding.',
    results: [
      'With PaLM as the language model, it plans a correct sequence of skills for 84% of the evaluated instructions on a real mobile manipulator.',
    ],
  },
  {
    arxivId: '2303.04137',
    title: 'Diffusion Policy: Visuomotor Policy Learning via Action Diffusion',
    authors: ['Cheng Chi', 'Siyuan Feng', 'Yilun Du', 'Zhenjia Xu', 'Eric Cousineau', 'Benjamin Burchfiel', 'Shuran Song'],
    year: 2023,
    venue: 'RSS 2023',
    topic: 'robotics',
    approach: 'imitation',
    aliases: ['Diffusion Policy'],
    seminal: true,
    tldr: 'Represents a visuomotor policy as a conditional denoising diffusion process over action sequences, which handles multimodal demonstrations well.',
    summary:
      'The policy iteratively denoises a sequence of future actions conditioned on visual observations, in effect following the gradient of the action distribution\'s score. Receding-horizon execution, visual conditioning and a time-series diffusion Transformer make it work on physical robots.',
    introduction:
      'Behaviour cloning with explicit regression struggles with multimodal demonstrations, and implicit energy-based policies are unstable to train. Diffusion models capture complex distributions stably, which suits action generation.',
    results: [
      'Across 12 tasks from 4 robot manipulation benchmarks it outperforms existing state-of-the-art robot learning methods with an average improvement of 46.9%.',
    ],
  },
  {
    arxivId: '2304.13705',
    title: 'Learning Fine-Grained Bimanual Manipulation with Low-Cost Hardware',
    authors: ['Tony Z. Zhao', 'Vikash Kumar', 'Sergey Levine', 'Chelsea Finn'],
    year: 2023,
    venue: 'RSS 2023',
    topic: 'robotics',
    approach: 'imitation',
    aliases: ['Action Chunking with Transformers', 'ALOHA'],
    tldr: 'Introduces the low-cost ALOHA bimanual teleoperation system and ACT, an imitation method that predicts chunks of future actions with a Transformer CVAE.',
    summary:
      'ALOHA is an inexpensive bimanual teleoperation setup for collecting demonstrations. ACT predicts a chunk of future joint targets at once with a conditional VAE Transformer and averages overlapping chunks (temporal ensembling), shortening the effective horizon and reducing compounding errors.',
    introduction:
      'Fine manipulation such as threading cable ties or inserting a battery usually needs expensive precise robots and sensors. Imitation learning could let cheap, imprecise hardware do it, but errors compound over time and human demonstrations are non-stationary.',
    results: [
      'Learns 6 difficult real-world tasks, such as opening a translucent condiment cup and slotting a battery, with 80-90% success from only 10 minutes of demonstrations.',
    ],
  },
  {
    arxivId: '2202.02005',
    title: 'BC-Z: Zero-Shot Task Generalization with Robotic Imitation Learning',
    authors: ['Eric Jang', 'Alex Irpan', 'Mohi Khansari', 'Daniel Kappler', 'Frederik Ebert', 'Corey Lynch', 'Sergey Levine', 'Chelsea Finn'],
    year: 2022,
    venue: 'CoRL 2021',
    topic: 'robotics',
    approach: 'imitation',
    aliases: ['BC-Z'],
    tldr: 'Scales interactive imitation learning to over 100 tasks and conditions the policy on language or human-video embeddings to attempt unseen tasks zero-shot.',
    summary:
      'BC-Z collects demonstrations and shared-autonomy interventions on a real robot across many tasks and trains a policy conditioned on a task embedding from either a pretrained sentence encoder or a video of a human doing the task, so a new task can be specified without robot demonstrations.',
    introduction:
      'Vision-based manipulation policies rarely generalise to tasks not seen in training. The authors study whether broadening data collection and conditioning on flexible task descriptions enables zero-shot task generalisation.',
    results: [
      'After data collection on more than 100 distinct tasks, performs 24 unseen manipulation tasks with an average success rate of 44%, without any robot demonstrations for those tasks.',
    ],
    buildsOn: ['1011.0686'],
  },
  {
    arxivId: '1011.0686',
    title: 'A Reduction of Imitation Learning and Structured Prediction to No-Regret Online Learning',
    authors: ['Stéphane Ross', 'Geoffrey J. Gordon', 'J. Andrew Bagnell'],
    year: 2010,
    venue: 'AISTATS 2011',
    topic: 'robotics',
    approach: 'imitation',
    aliases: ['DAgger'],
    seminal: true,
    tldr: 'DAgger repeatedly runs the learner\'s policy, has the expert label the states it visits, and retrains on the aggregated data, fixing the compounding-error problem of behaviour cloning.',
    summary:
      'Behaviour cloning trains on the expert\'s state distribution but is tested on its own, so mistakes compound. DAgger iteratively collects states under the current policy, queries the expert for the right actions there, aggregates all data and retrains, with guarantees from a reduction to no-regret online learning.',
    introduction:
      'Sequential prediction problems such as imitation violate the i.i.d. assumption of supervised learning, and the error of a cloned policy can grow quadratically with the horizon. Earlier fixes required non-stationary policies or many iterations.',
    results: [
      'Gives a stationary deterministic policy with no-regret performance guarantees, and outperforms previous approaches on two imitation problems built on the Super Tux Kart and Super Mario Bros games and on a benchmark sequence-labelling problem.',
    ],
  },
  {
    arxivId: '1703.06907',
    title: 'Domain Randomization for Transferring Deep Neural Networks from Simulation to the Real World',
    authors: ['Josh Tobin', 'Rachel Fong', 'Alex Ray', 'Jonas Schneider', 'Wojciech Zaremba', 'Pieter Abbeel'],
    year: 2017,
    venue: 'IROS 2017',
    topic: 'robotics',
    approach: 'sim-to-real',
    aliases: [],
    seminal: true,
    tldr: 'Randomising textures, lighting and camera settings in simulation makes a detector trained only on synthetic images work on real images.',
    summary:
      'Instead of making the simulator photorealistic, the renderer randomises textures, colours, lighting, camera pose and distractors so widely that the real world looks like one more variation. An object detector trained only on such images is used for grasping in clutter.',
    introduction:
      'Simulation gives cheap, safe and plentiful data for robot learning, but models trained in simulation fail on real data because of the reality gap; closing it with more realistic rendering is laborious.',
    results: [
      'Trains a real-world object localiser accurate to 1.5 cm, robust to distractors and partial occlusions, using only simulated images with non-realistic random textures.',
      'Reported as the first transfer of a deep network trained only on simulated RGB images (no real-image pretraining) to the real world for robotic control.',
    ],
  },
  {
    arxivId: '1910.07113',
    title: "Solving Rubik's Cube with a Robot Hand",
    authors: ['OpenAI', 'Ilge Akkaya', 'Marcin Andrychowicz', 'Maciek Chociej', 'Mateusz Litwin'],
    moreAuthors: true,
    year: 2019,
    topic: 'robotics',
    approach: 'sim-to-real',
    aliases: ['Automatic Domain Randomization'],
    tldr: 'Automatic domain randomisation gradually widens the range of simulated environments, producing policies and vision models that transfer to a real robot hand.',
    summary:
      'Automatic domain randomisation starts from a single simulated environment and widens randomisation ranges automatically as the policy masters them, generating an ever harder curriculum. Policies and state estimators trained only in simulation control a real five-fingered hand manipulating a Rubik\'s cube.',
    introduction:
      'Manual domain randomisation needs hand-tuned ranges, and dexterous in-hand manipulation has complex contact dynamics that simulators model imperfectly. The authors ask whether automatically expanding randomisation can bridge that gap.',
    results: [
      'Policies trained entirely in simulation solve a Rubik\'s cube with a real humanoid robot hand, and show signs of emergent meta-learning, adapting to perturbations during execution.',
    ],
    buildsOn: ['1703.06907'],
  },
  {
    arxivId: '1901.08652',
    title: 'Learning agile and dynamic motor skills for legged robots',
    authors: ['Jemin Hwangbo', 'Joonho Lee', 'Alexey Dosovitskiy', 'Dario Bellicoso', 'Vassilios Tsounis', 'Vladlen Koltun', 'Marco Hutter'],
    year: 2019,
    venue: 'Science Robotics 2019',
    topic: 'robotics',
    approach: 'sim-to-real',
    aliases: ['ANYmal'],
    tldr: 'Trains locomotion policies in simulation with a learned actuator model and deploys them on the ANYmal quadruped.',
    summary:
      'A neural network trained on real actuator data models the robot\'s series-elastic actuators inside the rigid-body simulator; policies trained with RL in this hybrid simulation transfer directly to the real ANYmal robot for velocity tracking, fast running and recovery from falls.',
    introduction:
      'Legged robots are hard to control with hand-designed controllers, and RL policies trained in simulation usually fail on hardware because actuator dynamics are poorly modelled. Learning the actuator model narrows that reality gap.',
    results: [
      'The learned policies follow commanded velocities more precisely and energy-efficiently than the previous model-based controller, run faster than before, and recover from falls on the real robot.',
    ],
  },
  {
    arxivId: '1806.10293',
    title: 'QT-Opt: Scalable Deep Reinforcement Learning for Vision-Based Robotic Manipulation',
    authors: ['Dmitry Kalashnikov', 'Alex Irpan', 'Peter Pastor', 'Julian Ibarz', 'Alexander Herzog', 'Eric Jang', 'Deirdre Quillen', 'Ethan Holly', 'Mrinal Kalakrishnan', 'Vincent Vanhoucke', 'Sergey Levine'],
    year: 2018,
    venue: 'CoRL 2018',
    topic: 'robotics',
    approach: 'robot-rl',
    aliases: ['QT-Opt'],
    seminal: true,
    tldr: 'Large-scale off-policy Q-learning with a cross-entropy-method optimiser over actions learns closed-loop vision-based grasping on real robots.',
    summary:
      'QT-Opt learns a Q-function from camera images and uses the cross-entropy method to pick continuous actions, with a distributed, asynchronous off-policy training system fed by real robots collecting data over months. The closed-loop policy re-plans at every step.',
    introduction:
      'Most grasping systems choose a grasp once and execute it open-loop. Closed-loop, vision-based manipulation could react and regrasp, but RL on real robots has been thought too data-hungry.',
    results: [
      'Trains on more than 580k real-world grasp attempts a Q-function with over 1.2M parameters that reaches 96% grasp success on unseen objects.',
      'Learns regrasping, probing, repositioning and other non-prehensile pre-grasp behaviours, and responds dynamically to disturbances.',
    ],
  },
  {
    arxivId: '2203.12601',
    title: 'R3M: A Universal Visual Representation for Robot Manipulation',
    authors: ['Suraj Nair', 'Aravind Rajeswaran', 'Vikash Kumar', 'Chelsea Finn', 'Abhinav Gupta'],
    year: 2022,
    venue: 'CoRL 2022',
    topic: 'robotics',
    approach: 'language-representations',
    aliases: ['R3M'],
    tldr: 'Pretrains a visual representation on Ego4D human videos with time-contrastive learning, video-language alignment and sparsity, for use as a frozen encoder in robot learning.',
    summary:
      'R3M trains an image encoder on diverse egocentric human video using a time-contrastive objective, alignment between video and language descriptions, and an L1 penalty for sparse compact features. The frozen representation is then used as the perception module of behaviour-cloned policies.',
    introduction:
      'Robot policies are usually trained end to end from scratch on small in-domain datasets, which is data-hungry and generalises poorly. Vision and NLP reuse pretrained representations; abundant human video could play that role for robots.',
    results: [
      'Across 12 simulated manipulation tasks, improves task success by over 20% compared with training from scratch and by over 10% compared with CLIP and MoCo representations.',
      'Lets a real Franka Panda arm learn a range of tasks in a cluttered apartment from just 20 demonstrations.',
    ],
  },
];
